"""The hospital Organizations: a fixed set per seed, shared by every batch."""

from __future__ import annotations

import random

from faker import Faker

from generator.ids import derive_seed, new_uuid
from generator.simulation.model import Hospital

_SUFFIXES = ("General Hospital", "Medical Center", "Memorial Hospital", "Regional Hospital", "University Hospital")


def build_hospitals(seed: int, count: int, faker: Faker) -> list[Hospital]:
    hospitals = []
    for index in range(count):
        hospital_seed = derive_seed("hospital", seed, index)
        rng = random.Random(hospital_seed)
        faker.seed_instance(hospital_seed)
        city = faker.city()
        hospitals.append(Hospital(
            organization_id=new_uuid(rng),
            name=f"{city} {_SUFFIXES[index % len(_SUFFIXES)]}",
            npi=str(rng.randrange(1_000_000_000, 2_000_000_000)),
            line=faker.street_address(),
            city=city,
            state=faker.state_abbr(),
            postal_code=faker.postcode(),
            phone=faker.phone_number(),
            beds=rng.randrange(80, 900),
        ))
    return hospitals
