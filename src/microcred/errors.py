"""The one typed error hierarchy of microcred.

Exceptions mean misuse or broken infrastructure; a bad credential is never an
exception (verification returns a report). Edges translate these classes once:
the CLI maps them to exit codes, the HTTP API to problem+json.

    MicrocredError                 code "error"
    ├── UsageError                 code "usage"        bad arguments or options
    ├── InputError                 code "input"        a document the caller gave is unusable
    │   ├── JsonInputError         code "json"         malformed, too big, too deep, duplicate keys
    │   ├── JsonLdError            code "jsonld"       JSON-LD processing failed
    │   │   ├── DataLossError      code "jsonld.data_loss"   a term or type that does not expand
    │   │   ├── ContextError       code "jsonld.context"     unknown, inline or tampered context
    │   │   └── CanonicalizationLimitError  code "rdfc.limit"  the work cap was hit
    │   ├── JcsError               code "jcs"          not representable in RFC 8785
    │   ├── KeyFormatError         code "key"          malformed or unsafe key material
    │   ├── BakingError            code "baking"       a PNG or SVG that cannot carry a credential
    │   └── StatusListError        code "status_list"  malformed bitstring status list
    ├── ResolutionError            code "resolution"   a DID or document could not be resolved
    │   └── FetchError             code "fetch"        the guarded fetcher refused or failed
    ├── SigningError               code "signing"      signing failed or produced an invalid proof
    ├── AuthError                  code "unauthorized" no or unknown credentials (token, session)
    ├── ForbiddenError             code "forbidden"    signed in, but not allowed to do this
    ├── OAuthError                 code "oauth"        an OAuth 2.0 refusal, with its registered `error` code
    └── RateLimitedError           code "rate_limited" too many attempts; retry after a delay
"""

from __future__ import annotations


class MicrocredError(Exception):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(MicrocredError):
    code = "usage"


class InputError(MicrocredError):
    code = "input"


class JsonInputError(InputError):
    code = "json"


class JsonLdError(InputError):
    code = "jsonld"


class DataLossError(JsonLdError):
    code = "jsonld.data_loss"


class ContextError(JsonLdError):
    code = "jsonld.context"


class CanonicalizationLimitError(JsonLdError):
    code = "rdfc.limit"


class JcsError(InputError):
    code = "jcs"


class KeyFormatError(InputError):
    code = "key"


class BakingError(InputError):
    code = "baking"


class StatusListError(InputError):
    code = "status_list"


class ResolutionError(MicrocredError):
    code = "resolution"


class FetchError(ResolutionError):
    code = "fetch"


class SigningError(MicrocredError):
    code = "signing"


class AuthError(MicrocredError):
    code = "unauthorized"


class ForbiddenError(MicrocredError):
    code = "forbidden"


class OAuthError(MicrocredError):
    """RFC 6749 section 5.2 and RFC 7591 section 3.2.2: `error` is the code a client acts on."""

    code = "oauth"

    def __init__(self, error: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.error = error
        self.status = status


class RateLimitedError(MicrocredError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
