"""Write companies_list.json: the MSP's clients (Freshservice departments, called companies in MSP mode,

    python utils/client_manager.py [--url URL]

The work is done by `utils.services.client_list`; this file is the command.
"""

import sys
from pathlib import Path

if __name__ == "__main__":  # run as `python utils/client_manager.py` from any folder: import from the project root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from utils.services.client_list import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
