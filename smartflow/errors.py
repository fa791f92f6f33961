"""The one exception tree of smartflow.

Every error the public API raises is a :class:`SmartflowError`. Errors from redis-py, the OS or
anyio are translated at the layer that sees them and chained with ``raise ... from exc``, so the
original is always available as ``__cause__``. Where a built-in exception type carries the same
meaning (``ValueError``, ``TypeError``, ``TimeoutError``, ``LookupError``) the smartflow class
also derives from it, so generic ``except`` clauses keep working::

    SmartflowError
    ├── InvalidArgumentError (ValueError)        a bad argument, refused where it is given
    │   ├── UnsupportedTypeError (TypeError)     an argument of the wrong type, or a value of a
    │   │                                        type smartflow cannot store
    │   └── MissingFileError (FileNotFoundError) a file named by an argument does not exist
    ├── ExperimentError                          misuse of an experiment's lifecycle
    ├── ValidationFailedError                    `smartflow validate` got a wrong answer
    ├── BatchJobError                            a batch inference job could not finish (its
    │   │                                        store was lost, its task managers kept dying)
    │   └── JobCancelledError                    the job was cancelled before it finished
    ├── LoadError                                a batch job's input could not be read (the
    │                                            input's error record; smartflow.batch.loaders)
    ├── PreprocessError                          the built-in image preprocessing failed
    │                                            (smartflow.batch.images)
    ├── OutputError                              a batch job's output file could not be
    │                                            written (smartflow.batch.outputs)
    ├── LaunchError                              an entity could not be started
    │   ├── ExecutableNotFoundError
    │   └── SchedulerError                       a workload manager refused a job, or its command
    │                                            is missing, failed or hung
    ├── StoreError                               the Redis-backed store (Orchestrator)
    │   ├── StoreBinaryNotFoundError             no usable redis-server
    │   └── StoreStartError                      redis-server did not come up
    │       └── PortInUseError
    └── ClientError                              the tensor client
        ├── ConnectionFailedError (ConnectionError)  nothing answers at the address
        ├── AuthenticationError                  the store refused the secret
        ├── ClientTimeoutError (TimeoutError)    a command ran past the configured timeout
        ├── KeyNotFoundError (LookupError)       the key does not exist
        ├── TensorFormatError                    the value is not a smartflow tensor
        ├── CommandError                         the store answered a command with an error
        │   ├── RedirectError                    a cluster kept redirecting (being resharded?)
        │   └── WrongTypeError (also a TensorFormatError)  the key holds another kind of value
        │                                        (WRONGTYPE: a list where a string was read)
        ├── InferenceError                       running a model or script next to the data
        │   ├── InvalidModelError (ValueError)   not a model, or a device that does not exist
        │   ├── ModelInputError (ValueError)     inputs of the wrong count, shape or dtype
        │   ├── RunTimeoutError (TimeoutError)   no answer from the worker in time
        │   ├── RunInterruptedError              a store error cut the worker's round short
        │   ├── WorkerCrashedError               the worker died while running the request
        │   └── WorkerUnavailableError           the shard's worker gave up after repeated crashes
        │
        │   SmartRedis's names, raised only by the drop-in smartflow.smartredis (each also a
        │   RuntimeError, as SmartRedis's are; the smartflow error is the __cause__):
        ├── RedisConnectionError (ConnectionError)
        └── RedisReplyError
            ├── RedisRuntimeError
            │   ├── RedisParameterError (ValueError)
            │   └── XarrayMissingError (ImportError)  dataset_utils without xarray installed
            ├── RedisBadAllocError
            ├── RedisDatabaseError
            ├── RedisInternalError
            ├── RedisTimeoutError (TimeoutError)
            ├── RedisKeyError (LookupError)
            └── RedisTypeError
"""

from __future__ import annotations


class SmartflowError(Exception):
    """Root of every error smartflow raises."""


class InvalidArgumentError(SmartflowError, ValueError):
    """An argument was refused where it was given; nothing was changed."""


class UnsupportedTypeError(InvalidArgumentError, TypeError):
    """An argument of the wrong type (a name that is not a str, a count that is not an int),
    or a value whose type smartflow cannot store (object, str or structured arrays, ...)."""


class MissingFileError(InvalidArgumentError, FileNotFoundError):
    """A file named by an argument (a model or script file, say) does not exist."""


class ExperimentError(SmartflowError):
    """An experiment was used out of order (closed, entity started twice, ...)."""


class ValidationFailedError(SmartflowError):
    """A step of ``smartflow validate`` ran but gave a wrong answer."""


class BatchJobError(SmartflowError):
    """A batch inference job could not finish: its store was lost, or its task managers kept
    failing (the message says which, with the last error)."""


class JobCancelledError(BatchJobError):
    """The batch inference job was cancelled (``handle.cancel()``) before it finished."""


class LaunchError(SmartflowError):
    """An entity could not be launched."""


class ExecutableNotFoundError(LaunchError, FileNotFoundError):
    """The executable of an entity does not exist or is not executable."""


class SchedulerError(LaunchError):
    """A workload manager refused a job (its message is kept), or one of its commands is
    missing, failed or did not answer in time."""


class StoreError(SmartflowError):
    """An error of the Redis-backed store (the Orchestrator)."""


class StoreBinaryNotFoundError(StoreError, FileNotFoundError):
    """No usable redis-server binary was found."""


class StoreStartError(StoreError, LaunchError):
    """redis-server exited or never answered while starting."""


class PortInUseError(StoreStartError):
    """The requested port is already taken on the requested interface."""


class ClientError(SmartflowError):
    """An error of the tensor client."""


class ConnectionFailedError(ClientError, ConnectionError):
    """Nothing answered at the store's address, or the connection broke."""


class AuthenticationError(ClientError):
    """The store refused the secret (or none was given to a store that needs one)."""


class ClientTimeoutError(ClientError, TimeoutError):
    """A command did not finish within the client's configured timeout."""


class KeyNotFoundError(ClientError, LookupError):
    """The key does not exist in the store."""


class TensorFormatError(ClientError):
    """The stored value is not a smartflow tensor, or its header is corrupt."""


class CommandError(ClientError):
    """The store answered a command with an error reply."""


class WrongTypeError(CommandError, TensorFormatError):
    """The store refused a command because the key holds another kind of value (``WRONGTYPE``):
    a command error, and a value that is not what the call reads."""


class RedirectError(CommandError):
    """A cluster shard answered MOVED (the slot map is stale) or ASK (the slot is migrating:
    ``ask_address`` names the shard to try once, after ASKING). The client follows a few of
    them itself; this reaches users only when the cluster keeps redirecting."""

    def __init__(self, message: str, ask_address: str | None = None) -> None:
        super().__init__(message)
        self.ask_address = ask_address


class InferenceError(ClientError):
    """A model or script could not be run by the inference worker beside the store."""


class InvalidModelError(InferenceError, InvalidArgumentError):
    """The model bytes are not a loadable model, or it asks for a device that does not exist."""


class ModelInputError(InferenceError, InvalidArgumentError):
    """The inputs do not match the model: count, shape or dtype (the message names the input)."""


class RunTimeoutError(InferenceError, ClientTimeoutError):
    """The worker did not answer a run within the configured run timeout."""


class RunInterruptedError(InferenceError):
    """A store error (a timeout, a dropped connection) cut the worker's round short; the worker
    goes on serving, so the run may be tried again."""


class WorkerCrashedError(InferenceError):
    """The inference worker died while running this request; it is restarted for the next."""


class WorkerUnavailableError(InferenceError):
    """No inference worker serves the shard: it crashed too often and the experiment gave up
    restarting it (the message names its log)."""
