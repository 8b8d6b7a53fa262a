"""Write companies_list.json: the MSP's clients (Freshservice departments, called companies in MSP mode,

    python utils/client_manager.py [--url URL]

The work is done by `utils.services.client_list` (through `utils.sources.freshservice_command`); this file is the command.
"""

import sys
from pathlib import Path

if __name__ == "__main__":  # run as `python utils/client_manager.py` from any folder: import from the project root
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from utils.sources.freshservice_command import list_clients_main as main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
