"""Words for a person's office or role, in English, Ukrainian and Russian. Two lists, for two
uses: the titles that stand before a name in a caption or byline ("President Volodymyr
Zelensky", "Prime Minister ..."), and the nouns a quote's speaker is referred to by ("the
minister said", "речниця заявила")."""

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

# the nouns a speaker is referred to by (also cut of a case ending: "міністра")
ROLE_NOUNS = frozenset(
    """
    minister president premier chancellor secretary spokesperson spokesman spokeswoman
    ambassador general commander chief mayor governor director senator lawmaker envoy
    diplomat adviser advisor chairman chairwoman leader official ceo king queen
    міністр міністерка президент президентка прем'єр-міністр прем’єр-міністр прем'єр прем’єр
    канцлер секретар речник речниця посол генерал командувач голова глава керівник очільник
    очільниця мер губернатор директор директорка сенатор депутат депутатка спікер дипломат
    радник радниця лідер посадовець
    министр президент премьер-министр премьер канцлер секретарь пресс-секретарь представитель
    посол генерал командующий глава руководитель мэр губернатор директор сенатор депутат
    спикер дипломат советник лидер чиновник
    """.split()
)
