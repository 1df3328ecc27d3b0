"""Operations commands of ``python -m app``: schema and indexes, backups, board export and
import. They work on the store directly, so no server needs to run (and any may)."""
