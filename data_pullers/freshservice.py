"""Pull one client's month from Freshservice into raw_data/freshservice_CLIENT_ID.json.

    python data_pullers/freshservice.py CLIENT_ID [--type department|company|workspace] [--month YYYY-MM] [--tz ZONE] [--workers N]

The work is done by `utils.services.freshservice_pull` (through `utils.sources.freshservice_command`); this file is the command.
"""

import sys
from pathlib import Path

if __name__ == "__main__":  # run as `python data_pullers/freshservice.py` from any folder: import from the project root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from utils.sources.freshservice_command import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
