"""The import report: what the importer could not decide, one line each, naming the file, SOP and step."""

from __future__ import annotations


class Report:
    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: list[str] = []

    def say(self, sop: str, message: str, step: str | None = None) -> None:
        """A line about one SOP (its title, shortened) and, if given, one of its steps."""
        where = f"{self.file}: {sop}" + (f": langkah {step}" if step else "")
        self.lines.append(f"{where}: {message}")

    def about_file(self, message: str) -> None:
        self.lines.append(f"{self.file}: {message}")
