"""Counts written for a person in English, for the command line: "1 case", "3 timeline events"."""


def counted(count, one, many):
    return f"{count} {one if count == 1 else many}"


def listed(parts):
    """"a", "a and b", "a, b and c"."""
    parts = list(parts)
    return ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else "".join(parts)
