"""`${name}` placeholders in text files (Trino's config, the analyst SQL) filled from config values.

Only `${identifier}` is a placeholder: Trino's own `${ENV:VAR}` and SQL like `'$.path'` pass through.
An unknown name is an error naming the file, never a silent blank.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from fhirpulse.core.errors import ConfigError

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def fill(text: str, values: Mapping[str, object], source: str) -> str:
    def one(match: re.Match) -> str:
        if match[1] not in values:
            raise ConfigError(f"{source}: unknown placeholder ${{{match[1]}}} (known: {', '.join(values)})")
        return str(values[match[1]])

    return PLACEHOLDER.sub(one, text)
