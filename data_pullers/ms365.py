"""Pull one client's Microsoft 365 posture into raw_data/ms365_CLIENT_ID.json.

    python data_pullers/ms365.py CLIENT_ID [--month YYYY-MM] [--tz ZONE] [--tenant TENANT]

The work is done by `utils.sources.ms365_command`; this file is the command.
"""

import sys
from pathlib import Path

if __name__ == "__main__":  # run as `python data_pullers/ms365.py` from any folder: import from the project root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from utils.sources.ms365_command import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
