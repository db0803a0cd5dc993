"""Writes reply.wav, the workspace's new-reply cue: two soft sine notes (E6 then A6), 0.3 s,
16 kHz mono 8-bit, with short fades so it does not click. Run: python make_reply_wav.py"""

import math
import wave
from pathlib import Path

RATE_HZ = 16_000
NOTES = ((1318.5, 0.12), (1760.0, 0.18))  # (frequency Hz, seconds)
FADE_S = 0.02
VOLUME = 0.35


def samples() -> bytes:
    out = bytearray()
    for frequency, seconds in NOTES:
        count = int(RATE_HZ * seconds)
        fade = int(RATE_HZ * FADE_S)
        for i in range(count):
            envelope = min(1.0, i / fade, (count - i) / fade)
            value = VOLUME * envelope * math.sin(2 * math.pi * frequency * i / RATE_HZ)
            out.append(int(128 + 127 * value))  # 8-bit WAV samples are unsigned
    return bytes(out)


if __name__ == "__main__":
    with wave.open(str(Path(__file__).with_name("reply.wav")), "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(1)
        target.setframerate(RATE_HZ)
        target.writeframes(samples())
