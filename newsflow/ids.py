"""Time-ordered submission ids (UUIDv7): sortable by arrival, unique without coordination."""

import uuid

from uuid_utils.compat import uuid7


def new_submission_id() -> uuid.UUID:
    return uuid7()
