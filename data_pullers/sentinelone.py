"""Pull one client's endpoint protection from SentinelOne into raw_data/sentinelone_CLIENT_ID.json.

    python data_pullers/sentinelone.py CLIENT_ID [--month YYYY-MM] [--tz ZONE] [--site SITE_ID]

The work is done by `utils.sources.sentinelone_command`; this file is the command.
"""

import sys
from pathlib import Path

if __name__ == "__main__":  # run as `python data_pullers/sentinelone.py` from any folder: import from the project root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from utils.sources.sentinelone_command import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
