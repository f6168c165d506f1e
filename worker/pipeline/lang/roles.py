"""Words for a person's office or role: "President", "міністр", "пресс-секретарь"."""

from __future__ import annotations

# Titles in front of a name move to the role: "President Volodymyr Zelensky".
TITLE_WORDS = {
    "president", "prime", "minister", "foreign", "defense", "defence", "chancellor",
    "secretary", "senator", "general", "gen.", "mayor", "ambassador", "pope", "king", "queen",
    "prince", "spokesperson", "spokesman", "speaker", "commander", "chief", "head", "dr.",
    "президент", "прем'єр-міністр", "прем’єр-міністр", "премьер-министр", "міністр",
    "министр", "канцлер", "посол", "мер", "голова", "глава", "спікер", "спикер", "генерал",
    "командувач", "командующий", "речник", "очільник", "секретар", "секретарь",
}  # fmt: skip
