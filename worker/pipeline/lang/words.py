"""What counts as a word in the rules."""

from __future__ import annotations

import re
from typing import Final

WORD: Final = re.compile(r"[^\W\d_](?:[\w'’ʼ.-]*\w)?")
