"""Writes the demo's calling lists (deterministic: run it again and the files do not change).

calling_list.csv: about 500 customers, a few Arabic names, a few bad rows the import must report,
a few landlines without a cell number. arabic_followup.csv: 30 customers for an Arabic follow-up.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).parent
FIRST = ["Maria", "James", "Aisha", "Chen", "Olivia", "Noah", "Fatima", "Liam", "Sofia", "Mateo",
         "Emma", "Lucas", "Zoe", "Ethan", "Chloe", "Omar", "Priya", "Diego", "Hana", "Jack"]
LAST = ["Garcia", "Smith", "Khan", "Nguyen", "Brown", "Lopez", "Haddad", "Kim", "Rossi", "Silva"]
ARABIC_FIRST = ["محمد", "فاطمة", "أحمد", "ليلى", "يوسف", "مريم", "خالد", "نور", "سارة", "علي"]
ARABIC_LAST = ["الحسن", "حداد", "العلي", "منصور", "خوري", "سليمان"]
AREAS = ["212", "312", "415", "305", "713", "602", "206", "617", "404", "303"]
HEADER = ["ExternalId", "FirstName", "LastName", "PhoneNumber", "IsCellPhone", "SMSPhoneNumber",
          "PostalCode", "Balance"]


def number(rng: random.Random) -> str:
    return f"({rng.choice(AREAS)}) {rng.randint(200, 989)}-{rng.randint(0, 9999):04d}"


def main() -> None:
    rng = random.Random(2026)
    rows = []
    for i in range(1, 496):
        arabic = i % 25 == 0
        first = rng.choice(ARABIC_FIRST if arabic else FIRST)
        last = rng.choice(ARABIC_LAST if arabic else LAST)
        landline = i % 40 == 0  # no cell number: skipped as no_mobile_number
        phone, postal = number(rng), f"{rng.randint(10001, 99950)}"
        balance = f"{rng.randint(20, 900)}.{rng.randint(0, 99):02d}"
        rows.append([f"C{i:04d}", first, last, phone, "false" if landline else "true", "",
                     postal, balance])
    rows[9][5] = number(rng)  # a separate SMS number
    bad = [
        ["C9001", "Bad", "Number", "555-0100", "true", "", "10001", "1.00"],  # too short
        ["C9002", "No", "Phone", "", "true", "", "10001", "1.00"],  # missing phone
        ["C9003", "Short", "Row", "(212) 555-0187"],  # wrong column count
        ["C0001", "Dup", "Id", "(212) 555-0199", "true", "", "10001", "1.00"],  # duplicate id
        ["C9005", "Maybe", "Cell", "(212) 555-0142", "perhaps", "", "10001", "1.00"],
    ]
    for offset, row in zip((50, 150, 250, 350, 450), bad, strict=True):
        rows.insert(offset, row)
    with (HERE / "calling_list.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)

    with (HERE / "arabic_followup.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(1, 31):
            writer.writerow([f"A{i:03d}", rng.choice(ARABIC_FIRST), rng.choice(ARABIC_LAST),
                             number(rng), "true", "", "10001", f"{rng.randint(20, 900)}.00"])


if __name__ == "__main__":
    main()
