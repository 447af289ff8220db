"""Response and operation codes shared by agents and clients."""
from enum import Enum


class ResponseCode(Enum):
    """Enumeration of response codes from the Operation API.

    These say only whether the API call reached the Operation code, not
    whether the Operation itself succeeded.
    """

    #: The request was successful.
    OK = 0
    #: The request could not be propagated fully.
    ERROR = -1
    #: A blocking ``wait`` call's timeout expired first.
    TIMEOUT = 1


class OpCode(Enum):
    """Enumeration of OpSession ``op_code`` values."""

    NONE = 1
    STARTING = 2
    RUNNING = 3
    STOPPING = 4
    SUCCEEDED = 5
    FAILED = 6
    EXPIRED = 7
    DEGRADED = 8


#: Response code of a successful Operation API call (``ResponseCode.OK.value``).
OK = ResponseCode.OK.value
#: Response code of a failed Operation API call.
ERROR = ResponseCode.ERROR.value
#: Response code of a ``wait`` call whose timeout expired.
TIMEOUT = ResponseCode.TIMEOUT.value
