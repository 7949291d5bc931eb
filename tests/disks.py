"""A disk that fills up, for the tests of what record writes when a write fails."""

from __future__ import annotations

import errno
import io


class NearlyFullDisk(io.FileIO):
    """A file on a disk with ``room`` bytes left: writes take what fits, then ENOSPC."""

    room = 0

    def write(self, data):
        if self.room <= 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        taken = super().write(bytes(data[: self.room]))
        self.room -= taken
        return taken
