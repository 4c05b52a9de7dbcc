"""Payroll: an employer issues every employee's withholding slip from the payroll export.

The payroll system exports one CSV row per employee (dotted column names for nested claims,
JSON text for arrays). The issuer makes one OpenID4VCI offer per row: a QR code PNG to hand
out (payslip portal, printed letter) and a Transaction Code to send by another channel
(OpenID4VCI 1.0 §13.6.1: never together with the QR code). Each employee scans their QR
with the wallet and types the code. The CLI does the same:
    honnin issuer offer --type withholding-slip --claims payroll.csv --qr-dir qr/ --json

Run:  python examples/payroll_batch.py
"""

import csv
import json
import tempfile
from pathlib import Path

from honnin.credential_types import load_catalogue
from honnin_demo import LoopbackServer
from issuer import Issuer, IssuerSettings, create_app
from wallet import Wallet

SAMPLE = load_catalogue().get("withholding-slip").sample_claims()
STAFF = [("山田 花子", 5_000_000, 93_900), ("佐藤 健", 4_200_000, 61_400),
         ("鈴木 愛", 6_100_000, 152_300)]  # fmt: skip


def flatten(claims: dict, prefix: str = "") -> dict:
    """{"payer": {"name": ...}} -> {"payer.name": ...}; arrays become JSON text."""
    cells = {}
    for name, value in claims.items():
        if isinstance(value, dict):
            cells.update(flatten(value, f"{prefix}{name}."))
        else:
            cells[prefix + name] = json.dumps(value) if isinstance(value, list) else value
    return cells


with tempfile.TemporaryDirectory() as folder, LoopbackServer() as server:
    out = Path(folder)
    # 1. The payroll export (here: the catalogue sample with each employee's figures).
    rows = []
    for name, paid, withheld in STAFF:
        claims = {**SAMPLE, "payment_amount": paid, "withholding_tax": withheld}
        claims["recipient"] = {**SAMPLE["recipient"], "name": name}
        rows.append(flatten(claims))
    with open(out / "payroll.csv", "w", newline="", encoding="utf-8") as export:
        writer = csv.DictWriter(export, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    # 2. The employer's issuer: offers and the OpenID4VCI service share one SQLite store.
    employer = Issuer.create("Example Corp", iss=server.url, store=out / "issuer.sqlite3")
    server.start(create_app(employer, IssuerSettings(dev=True)))

    # 3. One offer per row; every row is schema-checked before any offer is made.
    offers = employer.create_offers_from_file(
        out / "payroll.csv", "withholding-slip", by_reference=True, lifetime=7 * 24 * 3600
    )
    (out / "qr").mkdir()
    with open(out / "tx-codes.csv", "w", newline="", encoding="utf-8") as mailing:
        codes = csv.writer(mailing)
        codes.writerow(["employee", "offer_id", "tx_code"])  # sent by e-mail / SMS
        for (name, _, _), offer in zip(STAFF, offers, strict=True):
            offer.qr_png(out / "qr" / f"{offer.offer_id}.png")  # handed out separately
            codes.writerow([name, offer.offer_id, offer.tx_code])
    print(f"{len(offers)} offers, {len(list((out / 'qr').glob('*.png')))} QR codes written")

    # 4. The second employee scans their QR code and types the code from the e-mail.
    wallet = Wallet.open(
        out / "sato.wallet", pin="917305", trust=[employer.certificate], allow_loopback_http=True
    )
    receipt = wallet.receive(offers[1].uri, tx_code=offers[1].tx_code)
    (held,) = receipt.credentials
    print(f"佐藤 健 received {held.copies} copies of {held.name('en')} from {held.issuer_name}")
    print("recipient:", held.claims["recipient"]["name"], "paid:", held.claims["payment_amount"])
    wallet.close()
    server.stop()
    employer.close()
