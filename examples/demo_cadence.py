"""`make demo-cadence`: an agent skill's cadence against the simulators, with the real CLI.

What it shows: a sales team calls 500 customers (the dialer simulator, through the HTTP API of a
running `psms serve`); 30% of the calls reach answering machines, and exactly those customers
with an SMS-capable number get one follow-up text (the others skip the step with the reason);
ten of them reply and their conversations are spread over the available agents; an agent's
answer reaches the customer through the SMSC simulator; one customer texts STOP and leaves the
cadence, so the dialer never calls them again; the cadence report closes it.

Every step is a `psms` command, printed before it runs. The SMSC simulator and `psms serve` run
as their own processes and are stopped at the end: the demo leaves nothing running. Its database
is demo-cadence-out/psms.db, made fresh each run.
"""

from __future__ import annotations

import csv
import json
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from demo import demo_env, free_port, stop, wait_for_port  # examples/demo.py

from proactive_sms.domain.phone import mask

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo-cadence-out"
PSMS = [sys.executable, "-m", "proactive_sms.interfaces.cli"]
CUSTOMERS = 500
TEMPLATE = "Hi {FirstName}, sorry we missed your call today. Reply here to chat with us."
CADENCE = {
    "steps": [
        {"channel": "voice", "destination": "PhoneNumber", "max_attempts": 1},
        {"channel": "sms", "destination": "SMSPhoneNumber", "after": ["answering_machine"],
         "template": "sorry-we-missed-you"},
        {"channel": "voice", "destination": "PhoneNumber", "after": ["texted"],
         "max_attempts": 2, "rest_minutes": 0},
    ],
    "dispositions": ["sale", "refused"],
    "ends_on": ["sale", "refused"],
}


def env() -> dict[str, str]:
    return demo_env(OUT)


def say(text: str) -> None:
    print(f"\n\033[36m# {text}\033[0m", flush=True)


def psms(*args: str, capture: bool = False) -> str:
    print(f"\n\033[1m$ psms {shlex.join(args)}\033[0m", flush=True)
    result = subprocess.run([*PSMS, *args], env=env(), cwd=ROOT, text=True,
                            stdout=subprocess.PIPE if capture else None)
    if result.returncode != 0:
        raise SystemExit(f"demo step failed: psms {shlex.join(args)}")
    return result.stdout or ""


def background(command: list[str], log_name: str) -> subprocess.Popen:
    log = (OUT / log_name).open("w")
    return subprocess.Popen(command, env=env(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def get_json(url: str, key: str | None = None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
        return json.loads(r.read())


def write_customers(path: Path) -> None:
    """500 customers in New York; every fifth one has only a landline."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ExternalId", "FirstName", "LastName", "PhoneNumber", "IsCellPhone",
                         "PostalCode"])
        for i in range(CUSTOMERS):
            writer.writerow([f"C{i:04d}", f"Customer{i}", "Lee", f"212{200 + i // 100:03d}"
                             f"{i % 100:04d}", "false" if i % 5 == 0 else "true", "10001"])


def inject(control: str, number: str, text: str) -> None:
    print(f"  {mask(number)} -> 55502: {text!r}", flush=True)
    body = json.dumps({"from": number, "to": "55502", "text": text}).encode()
    request = urllib.request.Request(f"{control}/inbound", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()


def texted_numbers(control: str) -> list[str]:
    """The customers the cadence texted, as the SMSC simulator saw them."""
    submits = get_json(f"{control}/submits")["submits"]
    return sorted({"+" + s["destination_addr"].lstrip("+") for s in submits
                   if s.get("text", "").startswith("Hi Customer")})


def main() -> None:
    started = time.monotonic()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    smpp_port, control_port, api_port = free_port(), free_port(), free_port()
    control, api = f"http://127.0.0.1:{control_port}", f"http://127.0.0.1:{api_port}"
    (OUT / "sim.json").write_text(json.dumps({"receipt_delay_s": 0.3, "seed": 1}))
    (OUT / "cadence.json").write_text(json.dumps(CADENCE, indent=2))
    write_customers(OUT / "customers.csv")
    processes: list[subprocess.Popen] = []
    try:
        say("The SMSC simulator: a real SMPP server on loopback.")
        print(f"\033[1m$ psms smsc-sim --port {smpp_port} --control-port {control_port} "
              f"--config-json demo-cadence-out/sim.json &\033[0m")
        processes.append(background(
            [*PSMS, "smsc-sim", "--port", str(smpp_port), "--control-port", str(control_port),
             "--config-json", str(OUT / "sim.json")], "smsc-sim.log"))
        wait_for_port(smpp_port)

        say("A sales team: an sms_messaging code (replies become conversations), 500 "
            "customers, a follow-up template, an agent skill and its cadence.")
        psms("init", "--tenant", "acme", "--bu", "sales")
        psms("connection", "add", "simulator", "--port", str(smpp_port), "--system-id", "psms",
             "--password", "secret", "--window", "10")
        psms("registration", "add", "55502", "--kind", "short", "--throughput", "100",
             "--connection", "simulator", "--solution", "sms_messaging")
        psms("list", "import", "demo-cadence-out/customers.csv", "--name", "customers")
        psms("template", "add", "sorry-we-missed-you", "--text", TEMPLATE, "--list",
             "customers")
        psms("skill", "create", "outbound-sales", "--kind", "agent", "--registration", "55502",
             "--list", "customers", "--weekday-hours", "00:00-24:00",
             "--weekend-hours", "00:00-24:00")
        psms("cadence", "set", "outbound-sales", "--file", "demo-cadence-out/cadence.json")
        for name, availability in (("ana", "available"), ("ben", "available"),
                                   ("cho", "available"), ("dee", "away")):
            psms("agent", "create", name, "--availability", availability,
                 "--skill", "outbound-sales")
        psms("skill", "start", "outbound-sales")
        key = psms("apikey", "create", "dialer", capture=True).strip()

        say("The API and the dispatcher, as the dialer's peer: psms serve.")
        print(f"\033[1m$ psms serve --port {api_port} &\033[0m  (its log: "
              "demo-cadence-out/serve.log)")
        processes.append(background([*PSMS, "serve", "--port", str(api_port)], "serve.log"))
        wait_for_port(api_port)

        say("The dialer calls every customer once: 30% answering machines. An answering "
            "machine moves the record to the SMS step (texted where there is a cell phone, "
            "skipped with the reason where not).")
        odds = ["--odds", "answering_machine=0.3", "--odds", "no_answer=0.3",
                "--odds", "sale=0.15", "--odds", "refused=0.25"]
        psms("dialer-sim", "outbound-sales", "--api", api, "--api-key", key, *odds,
             "--seed", "7", "--batch", str(CUSTOMERS), "--rounds", "1")
        time.sleep(3)  # the dispatcher sends the follow-ups
        texted = texted_numbers(control)
        print(f"the SMSC simulator received {len(texted)} follow-up texts, one per number")

        say("Ten texted customers reply and one more texts STOP, through the simulator's "
            "control API (what `psms smsc-sim inject` does, without starting a process each).")
        for number in texted[:10]:
            inject(control, number, "Yes, please call me back after 5pm")
        stopper = texted[10]
        inject(control, stopper, "STOP")
        time.sleep(1.5)

        say("Ben answers his first conversation; the answer goes out through the simulator.")
        ben = get_json(f"{api}/v1/agents/ben/conversations", key)
        first = (ben["items"] if isinstance(ben, dict) else ben)[0]
        psms("agent", "answer", "ben", str(first["id"]), "Ben here: 5:30 works, talk then.")
        time.sleep(1.5)
        answered = [s for s in get_json(f"{control}/submits")["submits"]
                    if s.get("text") == "Ben here: 5:30 works, talk then."]
        print(f"the SMSC simulator received Ben's answer: {bool(answered)}")

        say("The dialer goes on until every record's cadence has ended: the texted customers "
            "get their next call, except the one who texted STOP (the API says done: dnc).")
        stop_id = f"C{_customer_index(stopper):04d}"
        psms("cadence", "record", "outbound-sales", stop_id)
        psms("dialer-sim", "outbound-sales", "--api", api, "--api-key", key, *odds,
             "--seed", "8", "--idle-wait", "0.2", "--max-seconds", "60")
        time.sleep(1)
        psms("cadence", "report", "outbound-sales")
        psms("agent", "report")
    finally:
        stop(reversed(processes))  # the API and dispatcher before the SMSC
    print("\nnote: the demo lifts the calling-window law (examples/demo_rules.json) so that it "
          "runs at any hour against the simulator; real skills text only inside the window.")
    print(f"\ndemo finished in {time.monotonic() - started:.1f} s; nothing left running. "
          f"Database: demo-cadence-out/psms.db")


def _customer_index(number: str) -> int:
    """C0123's number is +1212 2(01) 0023: exchange 200 + i // 100, line i % 100."""
    digits = number[-7:]
    return (int(digits[:3]) - 200) * 100 + int(digits[3:])


if __name__ == "__main__":
    main()
