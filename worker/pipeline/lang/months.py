"""Month and weekday names in English, Ukrainian and Russian, in every case news uses."""

from __future__ import annotations

MONTH_NUMBERS = {
    **dict.fromkeys(["jan", "january", "січня", "січень", "января", "январь"], 1),
    **dict.fromkeys(["feb", "february", "лютого", "лютий", "февраля", "февраль"], 2),
    **dict.fromkeys(["mar", "march", "березня", "березень", "марта", "март"], 3),
    **dict.fromkeys(["apr", "april", "квітня", "квітень", "апреля", "апрель"], 4),
    **dict.fromkeys(["may", "травня", "травень", "мая", "май"], 5),
    **dict.fromkeys(["jun", "june", "червня", "червень", "июня", "июнь"], 6),
    **dict.fromkeys(["jul", "july", "липня", "липень", "июля", "июль"], 7),
    **dict.fromkeys(["aug", "august", "серпня", "серпень", "августа", "август"], 8),
    **dict.fromkeys(["sep", "sept", "september", "вересня", "вересень", "сентября"], 9),
    **dict.fromkeys(["oct", "october", "жовтня", "жовтень", "октября", "октябрь"], 10),
    **dict.fromkeys(["nov", "november", "листопада", "листопад", "ноября", "ноябрь"], 11),
    **dict.fromkeys(["dec", "december", "грудня", "грудень", "декабря", "декабрь"], 12),
}


WEEKDAYS = {
    "mon", "monday", "tue", "tues", "tuesday", "wed", "wednesday", "thu", "thursday", "fri",
    "friday", "sat", "saturday", "sun", "sunday", "понеділок", "вівторок", "середа", "четвер",
    "пʼятниця", "п'ятниця", "п’ятниця", "субота", "неділя", "понедельник", "вторник", "среда",
    "четверг", "пятница", "суббота", "воскресенье",
}  # fmt: skip
