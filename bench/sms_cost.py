"""Costing a campaign on every recipient's final text: 100,000 recipients should take
well under 3 s (the draft freeze in the campaigns issue renders and costs them all)."""

import json
import time
from decimal import Decimal

from shopsms.sms.cost import estimate

RECIPIENTS = 100_000
TEMPLATE = (
    "Bonjour <NOM>, votre réparation <NUM> est disponible chez <MAGASIN>. "
    "Reste à régler : <MONTANT>. A très bientot à la boutique !"
)


def main():
    contexts = [
        {
            "civility": ("Monsieur", "Madame", "")[i % 3],
            "first_name": f"P{i:06d}",
            "last_name": f"N{i % 5000:04d}",
            "store": "Bijouterie Showroom",
            "number": str(100_000 + i),
            "amount": Decimal(100 + i % 800) + Decimal("0.90"),
        }
        for i in range(RECIPIENTS)
    ]
    wall, cpu = time.perf_counter(), time.process_time()
    result = estimate(TEMPLATE, contexts, add_stop=True)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        json.dumps(
            {
                "benchmark": "sms_cost",
                "recipients": result.recipients,
                "credits": result.credits,
                "seconds": round(wall, 3),
                "cpu_seconds": round(cpu, 3),
                "recipients_per_second": round(RECIPIENTS / wall),
                "target_seconds": 3,
                "within_target": wall < 3,
            }
        )
    )


if __name__ == "__main__":
    main()
