! The client (SmartRedis 0.6's smartredis_client): a connection to the store found from the
! environment (SSDB, SR_DB_TYPE, SSDB_PASSWORD, SSKEYIN/SSKEYOUT), over smartflow's C library.
! Every function returns an SRError code (SRNoError on success); smartredis_errors'
! get_last_error() says what failed.
module smartredis_client

use iso_c_binding, only : c_ptr, c_null_ptr, c_char, c_size_t, c_int, c_bool, c_loc, &
                          c_f_pointer, c_associated
use iso_c_binding, only : c_int8_t, c_int16_t, c_int32_t, c_int64_t, c_float, c_double
use, intrinsic :: iso_fortran_env, only : stderr => error_unit
use smartredis_dataset, only : dataset_type
use smartredis_configoptions, only : configoptions_type
use smartflow_c_api
use fortran_c_interop, only : record_error, &
                              c_string_to_fortran, tensor_dims_to_c, string_array_view, c_len

implicit none; private

#include "enum_fortran.inc"


!> A client of the store
type, public :: client_type
  private
  type(c_ptr) :: client_ptr = c_null_ptr !< The C library's client
  logical :: is_initialized = .false.    !< Whether initialize succeeded
contains
  !> Connect: initialize([logger_name]), initialize(cfgopts [, logger_name]) or the older
  !! initialize(cluster [, logger_name]) (cluster is accepted and ignored: SR_DB_TYPE decides)
  generic :: initialize => initialize_client_simple, initialize_client_cfgopts, &
                           initialize_client_deprecated
  !> Whether initialize succeeded
  procedure :: isinitialized
  !> Close the connection and release the client
  procedure :: destructor
  !> The C library's pointer
  procedure :: get_c_pointer
  !> Print what an SRError code means (to standard error) and return whether it is an error
  procedure :: SR_error_parser

  !> Store a tensor of real(4/8) or integer(1/2/4/8) elements and any rank
  generic :: put_tensor => put_tensor_i8, put_tensor_i16, put_tensor_i32, put_tensor_i64, &
                           put_tensor_float, put_tensor_double
  !> Fetch a tensor into an array of its shape and kind
  generic :: unpack_tensor => unpack_tensor_i8, unpack_tensor_i16, unpack_tensor_i32, &
                              unpack_tensor_i64, unpack_tensor_float, unpack_tensor_double
  procedure :: rename_tensor
  procedure :: delete_tensor
  procedure :: copy_tensor
  procedure :: tensor_exists
  procedure :: key_exists
  procedure :: model_exists
  procedure :: dataset_exists
  procedure :: poll_tensor
  procedure :: poll_key
  procedure :: poll_model
  procedure :: poll_dataset

  procedure :: set_model_from_file
  procedure :: set_model_from_file_multigpu
  procedure :: set_model
  procedure :: set_model_multigpu
  procedure :: get_model
  procedure :: run_model
  procedure :: run_model_multigpu
  procedure :: delete_model
  procedure :: delete_model_multigpu
  procedure :: set_script_from_file
  procedure :: set_script_from_file_multigpu
  procedure :: set_script
  procedure :: set_script_multigpu
  procedure :: get_script
  procedure :: run_script
  procedure :: run_script_multigpu
  procedure :: delete_script
  procedure :: delete_script_multigpu

  procedure :: put_dataset
  procedure :: get_dataset
  procedure :: rename_dataset
  procedure :: copy_dataset
  procedure :: delete_dataset

  procedure :: set_data_source
  procedure :: use_tensor_ensemble_prefix
  procedure :: use_dataset_ensemble_prefix
  procedure :: use_model_ensemble_prefix
  procedure :: use_list_ensemble_prefix

  procedure :: append_to_list
  procedure :: delete_list
  procedure :: copy_list
  procedure :: rename_list
  procedure :: get_list_length
  procedure :: poll_list_length
  procedure :: poll_list_length_gte
  procedure :: poll_list_length_lte
  procedure :: get_datasets_from_list
  procedure :: get_datasets_from_list_range

  !> A description of the client
  procedure :: to_string
  !> Write the description to a unit (standard error by default)
  procedure :: print_client

  procedure, private :: initialize_client_simple, initialize_client_cfgopts
  procedure, private :: initialize_client_deprecated
  procedure, private :: put_tensor_i8, put_tensor_i16, put_tensor_i32, put_tensor_i64
  procedure, private :: put_tensor_float, put_tensor_double
  procedure, private :: unpack_tensor_i8, unpack_tensor_i16, unpack_tensor_i32, unpack_tensor_i64
  procedure, private :: unpack_tensor_float, unpack_tensor_double
end type client_type

!> The logger name a client gets when initialize is given none (SmartRedis's).
character(len=*), parameter :: default_logger_name = "default"

contains

! --- life cycle ------------------------------------------------------------------------------

function initialize_client_simple(self, logger_name) result(code)
  class(client_type), intent(inout) :: self
  character(len=*), optional, intent(in) :: logger_name !< Names the client in log lines
  integer(kind=enum_kind) :: code

  if (present(logger_name)) then
    code = c_simple_create_client(logger_name, c_len(logger_name), self%client_ptr)
  else
    code = c_simple_create_client(default_logger_name, c_len(default_logger_name), &
                                  self%client_ptr)
  endif
  self%is_initialized = code == SRNoError
end function initialize_client_simple

function initialize_client_cfgopts(self, cfgopts, logger_name) result(code)
  class(client_type), intent(inout) :: self
  type(configoptions_type), intent(in) :: cfgopts !< Where to connect, and how
  character(len=*), optional, intent(in) :: logger_name
  integer(kind=enum_kind) :: code

  if (present(logger_name)) then
    code = c_create_client(cfgopts%get_c_pointer(), logger_name, c_len(logger_name), &
                           self%client_ptr)
  else
    code = c_create_client(cfgopts%get_c_pointer(), default_logger_name, &
                           c_len(default_logger_name), self%client_ptr)
  endif
  self%is_initialized = code == SRNoError
end function initialize_client_cfgopts

!> SmartRedis's older form: cluster said whether the store is a cluster. smartflow's C library
!! learns that from SR_DB_TYPE (or the store itself), so programs written for either kind of
!! store run against both unchanged.
function initialize_client_deprecated(self, cluster, logger_name) result(code)
  class(client_type), intent(inout) :: self
  logical, intent(in) :: cluster
  character(len=*), optional, intent(in) :: logger_name
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: c_cluster
  c_cluster = cluster
  if (present(logger_name)) then
    code = c_deprecated_create_client(c_cluster, logger_name, c_len(logger_name), &
                                      self%client_ptr)
  else
    code = c_deprecated_create_client(c_cluster, default_logger_name, &
                                      c_len(default_logger_name), self%client_ptr)
  endif
  self%is_initialized = code == SRNoError
end function initialize_client_deprecated

logical function isinitialized(self)
  class(client_type) :: self
  isinitialized = self%is_initialized
end function isinitialized

function destructor(self) result(code)
  class(client_type), intent(inout) :: self
  integer(kind=enum_kind) :: code

  code = c_delete_client(self%client_ptr)
  self%client_ptr = c_null_ptr
  self%is_initialized = .false.
end function destructor

function get_c_pointer(self)
  type(c_ptr) :: get_c_pointer
  class(client_type), intent(in) :: self
  get_c_pointer = self%client_ptr
end function get_c_pointer

!> SmartRedis's decoder: .false. for SRNoError; otherwise writes what the code means (and the
!! last error's message) to standard error and returns .true.
function SR_error_parser(self, response_code) result(is_error)
  class(client_type), intent(in) :: self
  integer(kind=enum_kind), intent(in) :: response_code
  logical :: is_error

  character(len=:), allocatable :: meaning

  is_error = .true.
  if (.not. self%is_initialized) then
    write(stderr, '(a)') "SmartRedis Client has not been initialized"
    return
  endif
  select case (response_code)
  case (SRNoError)
    is_error = .false.
    return
  case (SRBadAllocError)
    meaning = "Memory allocation error"
  case (SRDatabaseError)
    meaning = "Backend database error"
  case (SRInternalError)
    meaning = "Internal SmartRedis error"
  case (SRRuntimeError)
    meaning = "Runtime error executing an operation"
  case (SRParameterError)
    meaning = "Bad parameter error"
  case (SRTimeoutError)
    meaning = "Timeout error"
  case (SRKeyError)
    meaning = "Key error"
  case (SRTypeError)
    meaning = "Type mismatch error"
  case default
    meaning = "Invalid or uninitialized response code"
  end select
  write(stderr, '(a)') meaning // ": " // c_string_to_fortran(c_get_last_error())
end function SR_error_parser

! --- tensors: put_tensor_<kind> and unpack_tensor_<kind> from the template ------------------
#define SF_SELF_TYPE client_type
#define SF_SELF_PTR client_ptr
#define SF_C_SEND c_put_tensor
#define SF_C_RECV c_unpack_tensor
#define SF_SEND_LABEL "put_tensor"
#define SF_RECV_LABEL "unpack_tensor"
#define SF_SEND_I8 put_tensor_i8
#define SF_SEND_I16 put_tensor_i16
#define SF_SEND_I32 put_tensor_i32
#define SF_SEND_I64 put_tensor_i64
#define SF_SEND_FLOAT put_tensor_float
#define SF_SEND_DOUBLE put_tensor_double
#define SF_RECV_I8 unpack_tensor_i8
#define SF_RECV_I16 unpack_tensor_i16
#define SF_RECV_I32 unpack_tensor_i32
#define SF_RECV_I64 unpack_tensor_i64
#define SF_RECV_FLOAT unpack_tensor_float
#define SF_RECV_DOUBLE unpack_tensor_double
#include "tensor_kinds.inc"

function rename_tensor(self, old_name, new_name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: old_name, new_name
  integer(kind=enum_kind) :: code
  code = c_rename_tensor(self%client_ptr, old_name, c_len(old_name), new_name, c_len(new_name))
end function rename_tensor

function delete_tensor(self, name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer(kind=enum_kind) :: code
  code = c_delete_tensor(self%client_ptr, name, c_len(name))
end function delete_tensor

function copy_tensor(self, src_name, dest_name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: src_name, dest_name
  integer(kind=enum_kind) :: code
  code = c_copy_tensor(self%client_ptr, src_name, c_len(src_name), dest_name, c_len(dest_name))
end function copy_tensor

! --- existence and polling ---------------------------------------------------------------------

function tensor_exists(self, tensor_name, exists) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: tensor_name
  logical, intent(out) :: exists
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: found
  found = .false.
  code = c_tensor_exists(self%client_ptr, tensor_name, c_len(tensor_name), found)
  exists = found
end function tensor_exists

function key_exists(self, key, exists) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: key
  logical, intent(out) :: exists
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: found
  found = .false.
  code = c_key_exists(self%client_ptr, key, c_len(key), found)
  exists = found
end function key_exists

function model_exists(self, model_name, exists) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: model_name
  logical, intent(out) :: exists
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: found
  found = .false.
  code = c_model_exists(self%client_ptr, model_name, c_len(model_name), found)
  exists = found
end function model_exists

function dataset_exists(this, dataset_name, exists) result(code)
  class(client_type), intent(in) :: this
  character(len=*), intent(in) :: dataset_name
  logical, intent(out) :: exists
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: found
  found = .false.
  code = c_dataset_exists(this%client_ptr, dataset_name, c_len(dataset_name), found)
  exists = found
end function dataset_exists

function poll_tensor(self, tensor_name, poll_frequency_ms, num_tries, exists) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: tensor_name
  integer, intent(in) :: poll_frequency_ms !< Milliseconds between checks
  integer, intent(in) :: num_tries         !< How many checks before giving up
  logical, intent(out) :: exists           !< Whether it appeared
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: found
  found = .false.
  code = c_poll_tensor(self%client_ptr, tensor_name, c_len(tensor_name), &
                       int(poll_frequency_ms, c_int), int(num_tries, c_int), found)
  exists = found
end function poll_tensor

function poll_key(self, key, poll_frequency_ms, num_tries, exists) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: key
  integer, intent(in) :: poll_frequency_ms, num_tries
  logical, intent(out) :: exists
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: found
  found = .false.
  code = c_poll_key(self%client_ptr, key, c_len(key), int(poll_frequency_ms, c_int), &
                    int(num_tries, c_int), found)
  exists = found
end function poll_key

function poll_model(self, model_name, poll_frequency_ms, num_tries, exists) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: model_name
  integer, intent(in) :: poll_frequency_ms, num_tries
  logical, intent(out) :: exists
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: found
  found = .false.
  code = c_poll_model(self%client_ptr, model_name, c_len(model_name), &
                      int(poll_frequency_ms, c_int), int(num_tries, c_int), found)
  exists = found
end function poll_model

function poll_dataset(self, dataset_name, poll_frequency_ms, num_tries, exists) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: dataset_name
  integer, intent(in) :: poll_frequency_ms, num_tries
  logical, intent(out) :: exists
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: found
  found = .false.
  code = c_poll_dataset(self%client_ptr, dataset_name, c_len(dataset_name), &
                        int(poll_frequency_ms, c_int), int(num_tries, c_int), found)
  exists = found
end function poll_dataset

! --- models ----------------------------------------------------------------------------------

!> The C view of an optional list of node names: pointers and lengths, or none at all.
subroutine optional_names_view(names, ptrs, lengths, n)
  character(len=*), dimension(:), optional, target, intent(in) :: names
  type(c_ptr), dimension(:), allocatable, intent(out) :: ptrs
  integer(kind=c_size_t), dimension(:), allocatable, intent(out) :: lengths
  integer(kind=c_size_t), intent(out) :: n

  if (present(names)) then
    call string_array_view(names, ptrs, lengths)
  else
    allocate(ptrs(0), lengths(0))
  endif
  n = size(ptrs, kind=c_size_t)
end subroutine optional_names_view

!> Store a model read from a file. backend: "ONNX" (smartflow runs ONNX models; TF and TORCH
!! give an error). inputs/outputs name graph nodes (TF only in SmartRedis; optional here).
function set_model_from_file(self, name, model_file, backend, device, batch_size, &
    min_batch_size, min_batch_timeout, tag, inputs, outputs) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, model_file, backend, device
  integer, optional, intent(in) :: batch_size, min_batch_size, min_batch_timeout
  character(len=*), optional, intent(in) :: tag
  character(len=*), dimension(:), optional, target, intent(in) :: inputs, outputs
  integer(kind=enum_kind) :: code

  type(c_ptr), dimension(:), allocatable, target :: in_ptrs, out_ptrs
  integer(kind=c_size_t), dimension(:), allocatable, target :: in_lengths, out_lengths
  integer(kind=c_size_t) :: n_in, n_out

  call optional_names_view(inputs, in_ptrs, in_lengths, n_in)
  call optional_names_view(outputs, out_ptrs, out_lengths, n_out)
  code = c_set_model_from_file(self%client_ptr, name, c_len(name), model_file, &
      c_len(model_file), backend, c_len(backend), device, c_len(device), &
      int_or_zero(batch_size), int_or_zero(min_batch_size), int_or_zero(min_batch_timeout), &
      text_or_empty(tag), c_len(text_or_empty(tag)), c_loc(in_ptrs), c_loc(in_lengths), n_in, &
      c_loc(out_ptrs), c_loc(out_lengths), n_out)
end function set_model_from_file

function set_model_from_file_multigpu(self, name, model_file, backend, first_gpu, num_gpus, &
    batch_size, min_batch_size, min_batch_timeout, tag, inputs, outputs) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, model_file, backend
  integer, intent(in) :: first_gpu, num_gpus
  integer, optional, intent(in) :: batch_size, min_batch_size, min_batch_timeout
  character(len=*), optional, intent(in) :: tag
  character(len=*), dimension(:), optional, target, intent(in) :: inputs, outputs
  integer(kind=enum_kind) :: code

  type(c_ptr), dimension(:), allocatable, target :: in_ptrs, out_ptrs
  integer(kind=c_size_t), dimension(:), allocatable, target :: in_lengths, out_lengths
  integer(kind=c_size_t) :: n_in, n_out

  call optional_names_view(inputs, in_ptrs, in_lengths, n_in)
  call optional_names_view(outputs, out_ptrs, out_lengths, n_out)
  code = c_set_model_from_file_multigpu(self%client_ptr, name, c_len(name), model_file, &
      c_len(model_file), backend, c_len(backend), int(first_gpu, c_int), int(num_gpus, c_int), &
      int_or_zero(batch_size), int_or_zero(min_batch_size), int_or_zero(min_batch_timeout), &
      text_or_empty(tag), c_len(text_or_empty(tag)), c_loc(in_ptrs), c_loc(in_lengths), n_in, &
      c_loc(out_ptrs), c_loc(out_lengths), n_out)
end function set_model_from_file_multigpu

!> Store a model held in memory (its bytes in a character string; trailing blanks are dropped,
!! as SmartRedis does, so a buffer longer than the model works).
function set_model(self, name, model, backend, device, batch_size, min_batch_size, &
    min_batch_timeout, tag, inputs, outputs) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, model, backend, device
  integer, optional, intent(in) :: batch_size, min_batch_size, min_batch_timeout
  character(len=*), optional, intent(in) :: tag
  character(len=*), dimension(:), optional, target, intent(in) :: inputs, outputs
  integer(kind=enum_kind) :: code

  type(c_ptr), dimension(:), allocatable, target :: in_ptrs, out_ptrs
  integer(kind=c_size_t), dimension(:), allocatable, target :: in_lengths, out_lengths
  integer(kind=c_size_t) :: n_in, n_out

  call optional_names_view(inputs, in_ptrs, in_lengths, n_in)
  call optional_names_view(outputs, out_ptrs, out_lengths, n_out)
  code = c_set_model(self%client_ptr, name, c_len(name), model, c_len(model), backend, &
      c_len(backend), device, c_len(device), int_or_zero(batch_size), &
      int_or_zero(min_batch_size), int_or_zero(min_batch_timeout), text_or_empty(tag), &
      c_len(text_or_empty(tag)), c_loc(in_ptrs), c_loc(in_lengths), n_in, c_loc(out_ptrs), &
      c_loc(out_lengths), n_out)
end function set_model

function set_model_multigpu(self, name, model, backend, first_gpu, num_gpus, batch_size, &
    min_batch_size, min_batch_timeout, tag, inputs, outputs) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, model, backend
  integer, intent(in) :: first_gpu, num_gpus
  integer, optional, intent(in) :: batch_size, min_batch_size, min_batch_timeout
  character(len=*), optional, intent(in) :: tag
  character(len=*), dimension(:), optional, target, intent(in) :: inputs, outputs
  integer(kind=enum_kind) :: code

  type(c_ptr), dimension(:), allocatable, target :: in_ptrs, out_ptrs
  integer(kind=c_size_t), dimension(:), allocatable, target :: in_lengths, out_lengths
  integer(kind=c_size_t) :: n_in, n_out

  call optional_names_view(inputs, in_ptrs, in_lengths, n_in)
  call optional_names_view(outputs, out_ptrs, out_lengths, n_out)
  code = c_set_model_multigpu(self%client_ptr, name, c_len(name), model, c_len(model), &
      backend, c_len(backend), int(first_gpu, c_int), int(num_gpus, c_int), &
      int_or_zero(batch_size), int_or_zero(min_batch_size), int_or_zero(min_batch_timeout), &
      text_or_empty(tag), c_len(text_or_empty(tag)), c_loc(in_ptrs), c_loc(in_lengths), n_in, &
      c_loc(out_ptrs), c_loc(out_lengths), n_out)
end function set_model_multigpu

!> A stored model's bytes into model (blank-padded); a model longer than the string is refused.
function get_model(self, name, model) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  character(len=*), intent(out) :: model
  integer(kind=enum_kind) :: code

  type(c_ptr) :: bytes
  integer(kind=c_size_t) :: length

  model = ""
  code = c_get_model(self%client_ptr, name, c_len(name), length, bytes)
  if (code /= SRNoError) return
  code = copy_c_text(bytes, length, model, "get_model")
end function get_model

!> Run a stored model on stored tensors, writing its outputs under the given names.
function run_model(self, name, inputs, outputs) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  character(len=*), dimension(:), target, intent(in) :: inputs, outputs
  integer(kind=enum_kind) :: code

  type(c_ptr), dimension(:), allocatable, target :: in_ptrs, out_ptrs
  integer(kind=c_size_t), dimension(:), allocatable, target :: in_lengths, out_lengths

  call string_array_view(inputs, in_ptrs, in_lengths)
  call string_array_view(outputs, out_ptrs, out_lengths)
  code = c_run_model(self%client_ptr, name, c_len(name), c_loc(in_ptrs), c_loc(in_lengths), &
                     size(in_ptrs, kind=c_size_t), c_loc(out_ptrs), c_loc(out_lengths), &
                     size(out_ptrs, kind=c_size_t))
end function run_model

function run_model_multigpu(self, name, inputs, outputs, offset, first_gpu, num_gpus) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  character(len=*), dimension(:), target, intent(in) :: inputs, outputs
  integer, intent(in) :: offset, first_gpu, num_gpus
  integer(kind=enum_kind) :: code

  type(c_ptr), dimension(:), allocatable, target :: in_ptrs, out_ptrs
  integer(kind=c_size_t), dimension(:), allocatable, target :: in_lengths, out_lengths

  call string_array_view(inputs, in_ptrs, in_lengths)
  call string_array_view(outputs, out_ptrs, out_lengths)
  code = c_run_model_multigpu(self%client_ptr, name, c_len(name), c_loc(in_ptrs), &
                              c_loc(in_lengths), size(in_ptrs, kind=c_size_t), c_loc(out_ptrs), &
                              c_loc(out_lengths), size(out_ptrs, kind=c_size_t), &
                              int(offset, c_int), int(first_gpu, c_int), int(num_gpus, c_int))
end function run_model_multigpu

function delete_model(self, name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer(kind=enum_kind) :: code
  code = c_delete_model(self%client_ptr, name, c_len(name))
end function delete_model

function delete_model_multigpu(self, name, first_gpu, num_gpus) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer, intent(in) :: first_gpu, num_gpus
  integer(kind=enum_kind) :: code
  code = c_delete_model_multigpu(self%client_ptr, name, c_len(name), int(first_gpu, c_int), &
                                 int(num_gpus, c_int))
end function delete_model_multigpu

! --- scripts (TorchScript in SmartRedis: the C library answers with a clear error) ----------

function set_script_from_file(self, name, device, script_file) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, device, script_file
  integer(kind=enum_kind) :: code
  code = c_set_script_from_file(self%client_ptr, name, c_len(name), device, c_len(device), &
                                script_file, c_len(script_file))
end function set_script_from_file

function set_script_from_file_multigpu(self, name, script_file, first_gpu, num_gpus) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, script_file
  integer, intent(in) :: first_gpu, num_gpus
  integer(kind=enum_kind) :: code
  code = c_set_script_from_file_multigpu(self%client_ptr, name, c_len(name), script_file, &
                                         c_len(script_file), int(first_gpu, c_int), &
                                         int(num_gpus, c_int))
end function set_script_from_file_multigpu

function set_script(self, name, device, script) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, device, script
  integer(kind=enum_kind) :: code
  code = c_set_script(self%client_ptr, name, c_len(name), device, c_len(device), script, &
                      c_len(script))
end function set_script

function set_script_multigpu(self, name, script, first_gpu, num_gpus) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, script
  integer, intent(in) :: first_gpu, num_gpus
  integer(kind=enum_kind) :: code
  code = c_set_script_multigpu(self%client_ptr, name, c_len(name), script, c_len(script), &
                               int(first_gpu, c_int), int(num_gpus, c_int))
end function set_script_multigpu

function get_script(self, name, script) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  character(len=*), intent(out) :: script
  integer(kind=enum_kind) :: code

  type(c_ptr) :: text
  integer(kind=c_size_t) :: length

  script = ""
  code = c_get_script(self%client_ptr, name, c_len(name), text, length)
  if (code /= SRNoError) return
  code = copy_c_text(text, length, script, "get_script")
end function get_script

function run_script(self, name, func, inputs, outputs) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, func
  character(len=*), dimension(:), target, intent(in) :: inputs, outputs
  integer(kind=enum_kind) :: code

  type(c_ptr), dimension(:), allocatable, target :: in_ptrs, out_ptrs
  integer(kind=c_size_t), dimension(:), allocatable, target :: in_lengths, out_lengths

  call string_array_view(inputs, in_ptrs, in_lengths)
  call string_array_view(outputs, out_ptrs, out_lengths)
  code = c_run_script(self%client_ptr, name, c_len(name), func, c_len(func), c_loc(in_ptrs), &
                      c_loc(in_lengths), size(in_ptrs, kind=c_size_t), c_loc(out_ptrs), &
                      c_loc(out_lengths), size(out_ptrs, kind=c_size_t))
end function run_script

function run_script_multigpu(self, name, func, inputs, outputs, offset, first_gpu, num_gpus) &
    result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, func
  character(len=*), dimension(:), target, intent(in) :: inputs, outputs
  integer, intent(in) :: offset, first_gpu, num_gpus
  integer(kind=enum_kind) :: code

  type(c_ptr), dimension(:), allocatable, target :: in_ptrs, out_ptrs
  integer(kind=c_size_t), dimension(:), allocatable, target :: in_lengths, out_lengths

  call string_array_view(inputs, in_ptrs, in_lengths)
  call string_array_view(outputs, out_ptrs, out_lengths)
  code = c_run_script_multigpu(self%client_ptr, name, c_len(name), func, c_len(func), &
                               c_loc(in_ptrs), c_loc(in_lengths), size(in_ptrs, kind=c_size_t), &
                               c_loc(out_ptrs), c_loc(out_lengths), &
                               size(out_ptrs, kind=c_size_t), int(offset, c_int), &
                               int(first_gpu, c_int), int(num_gpus, c_int))
end function run_script_multigpu

function delete_script(self, name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer(kind=enum_kind) :: code
  code = c_delete_script(self%client_ptr, name, c_len(name))
end function delete_script

function delete_script_multigpu(self, name, first_gpu, num_gpus) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer, intent(in) :: first_gpu, num_gpus
  integer(kind=enum_kind) :: code
  code = c_delete_script_multigpu(self%client_ptr, name, c_len(name), int(first_gpu, c_int), &
                                  int(num_gpus, c_int))
end function delete_script_multigpu

! --- datasets --------------------------------------------------------------------------------

function put_dataset(self, dataset) result(code)
  class(client_type), intent(in) :: self
  type(dataset_type), intent(in) :: dataset
  integer(kind=enum_kind) :: code
  code = c_put_dataset(self%client_ptr, dataset%dataset_ptr)
end function put_dataset

function get_dataset(self, name, dataset) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  type(dataset_type), intent(out) :: dataset !< Receives a new dataset
  integer(kind=enum_kind) :: code
  code = c_get_dataset(self%client_ptr, name, c_len(name), dataset%dataset_ptr)
end function get_dataset

function rename_dataset(self, name, new_name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, new_name
  integer(kind=enum_kind) :: code
  code = c_rename_dataset(self%client_ptr, name, c_len(name), new_name, c_len(new_name))
end function rename_dataset

function copy_dataset(self, name, new_name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name, new_name
  integer(kind=enum_kind) :: code
  code = c_copy_dataset(self%client_ptr, name, c_len(name), new_name, c_len(new_name))
end function copy_dataset

function delete_dataset(self, name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer(kind=enum_kind) :: code
  code = c_delete_dataset(self%client_ptr, name, c_len(name))
end function delete_dataset

! --- ensemble prefixing ----------------------------------------------------------------------

!> Read from another member's keys: source_id is one of the prefixes in SSKEYIN.
function set_data_source(self, source_id) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: source_id
  integer(kind=enum_kind) :: code
  code = c_set_data_source(self%client_ptr, source_id, c_len(source_id))
end function set_data_source

function use_tensor_ensemble_prefix(self, use_prefix) result(code)
  class(client_type), intent(in) :: self
  logical, intent(in) :: use_prefix
  integer(kind=enum_kind) :: code
  code = c_use_tensor_ensemble_prefix(self%client_ptr, logical(use_prefix, kind=c_bool))
end function use_tensor_ensemble_prefix

function use_dataset_ensemble_prefix(self, use_prefix) result(code)
  class(client_type), intent(in) :: self
  logical, intent(in) :: use_prefix
  integer(kind=enum_kind) :: code
  code = c_use_dataset_ensemble_prefix(self%client_ptr, logical(use_prefix, kind=c_bool))
end function use_dataset_ensemble_prefix

function use_model_ensemble_prefix(self, use_prefix) result(code)
  class(client_type), intent(in) :: self
  logical, intent(in) :: use_prefix
  integer(kind=enum_kind) :: code
  code = c_use_model_ensemble_prefix(self%client_ptr, logical(use_prefix, kind=c_bool))
end function use_model_ensemble_prefix

function use_list_ensemble_prefix(self, use_prefix) result(code)
  class(client_type), intent(in) :: self
  logical, intent(in) :: use_prefix
  integer(kind=enum_kind) :: code
  code = c_use_list_ensemble_prefix(self%client_ptr, logical(use_prefix, kind=c_bool))
end function use_list_ensemble_prefix

! --- aggregation lists -----------------------------------------------------------------------

!> Append a stored dataset (put_dataset first) to a list; the list holds its key, not a copy.
function append_to_list(self, list_name, dataset) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: list_name
  type(dataset_type), intent(in) :: dataset
  integer(kind=enum_kind) :: code
  code = c_append_to_list(self%client_ptr, list_name, c_len(list_name), dataset%dataset_ptr)
end function append_to_list

function delete_list(self, list_name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: list_name
  integer(kind=enum_kind) :: code
  code = c_delete_list(self%client_ptr, list_name, c_len(list_name))
end function delete_list

function copy_list(self, src_name, dest_name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: src_name, dest_name
  integer(kind=enum_kind) :: code
  code = c_copy_list(self%client_ptr, src_name, c_len(src_name), dest_name, c_len(dest_name))
end function copy_list

function rename_list(self, src_name, dest_name) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: src_name, dest_name
  integer(kind=enum_kind) :: code
  code = c_rename_list(self%client_ptr, src_name, c_len(src_name), dest_name, c_len(dest_name))
end function rename_list

function get_list_length(self, list_name, result_length) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: list_name
  integer, intent(out) :: result_length
  integer(kind=enum_kind) :: code

  integer(kind=c_int) :: length
  length = 0
  code = c_get_list_length(self%client_ptr, list_name, c_len(list_name), length)
  result_length = length
end function get_list_length

function poll_list_length(self, list_name, list_length, poll_frequency_ms, num_tries, &
    poll_result) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: list_name
  integer, intent(in) :: list_length, poll_frequency_ms, num_tries
  logical, intent(out) :: poll_result !< Whether the list reached exactly list_length
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: reached
  reached = .false.
  code = c_poll_list_length(self%client_ptr, list_name, c_len(list_name), &
                            int(list_length, c_int), int(poll_frequency_ms, c_int), &
                            int(num_tries, c_int), reached)
  poll_result = reached
end function poll_list_length

function poll_list_length_gte(self, list_name, list_length, poll_frequency_ms, num_tries, &
    poll_result) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: list_name
  integer, intent(in) :: list_length, poll_frequency_ms, num_tries
  logical, intent(out) :: poll_result
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: reached
  reached = .false.
  code = c_poll_list_length_gte(self%client_ptr, list_name, c_len(list_name), &
                                int(list_length, c_int), int(poll_frequency_ms, c_int), &
                                int(num_tries, c_int), reached)
  poll_result = reached
end function poll_list_length_gte

function poll_list_length_lte(self, list_name, list_length, poll_frequency_ms, num_tries, &
    poll_result) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: list_name
  integer, intent(in) :: list_length, poll_frequency_ms, num_tries
  logical, intent(out) :: poll_result
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: reached
  reached = .false.
  code = c_poll_list_length_lte(self%client_ptr, list_name, c_len(list_name), &
                                int(list_length, c_int), int(poll_frequency_ms, c_int), &
                                int(num_tries, c_int), reached)
  poll_result = reached
end function poll_list_length_lte

!> Take ownership of a C array of n new datasets: each becomes an element of datasets, and the
!! array itself is freed.
subroutine adopt_datasets(array, n, datasets)
  type(c_ptr), intent(in) :: array
  integer(kind=c_size_t), intent(in) :: n
  type(dataset_type), dimension(:), allocatable, intent(inout) :: datasets

  type(c_ptr), dimension(:), pointer :: ptrs
  integer(kind=c_size_t) :: i

  if (allocated(datasets)) deallocate(datasets)
  allocate(datasets(n))
  if (n > 0) then
    call c_f_pointer(array, ptrs, [n])
    do i = 1, n
      datasets(i)%dataset_ptr = ptrs(i)
    enddo
  endif
  if (c_associated(array)) call c_free(array)
end subroutine adopt_datasets

!> Every dataset in a list (an existing datasets array is replaced).
function get_datasets_from_list(self, list_name, datasets, num_datasets) result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: list_name
  type(dataset_type), dimension(:), allocatable, intent(out) :: datasets
  integer, intent(out) :: num_datasets
  integer(kind=enum_kind) :: code

  type(c_ptr) :: array
  integer(kind=c_size_t) :: n

  array = c_null_ptr
  n = 0
  num_datasets = 0
  code = c_get_datasets_from_list(self%client_ptr, list_name, c_len(list_name), array, n)
  if (code /= SRNoError) then
    allocate(datasets(0))
    return
  endif
  call adopt_datasets(array, n, datasets)
  num_datasets = int(n)
end function get_datasets_from_list

!> The datasets of a list from start_index to end_index, both included, counting from 0
!! (negative indices count from the end: -1 is the last).
function get_datasets_from_list_range(self, list_name, start_index, end_index, datasets) &
    result(code)
  class(client_type), intent(in) :: self
  character(len=*), intent(in) :: list_name
  integer, intent(in) :: start_index, end_index
  type(dataset_type), dimension(:), allocatable, intent(out) :: datasets
  integer(kind=enum_kind) :: code

  type(c_ptr) :: array
  integer(kind=c_size_t) :: n

  array = c_null_ptr
  n = 0
  code = c_get_dataset_list_range(self%client_ptr, list_name, c_len(list_name), &
                                  int(start_index, c_int), int(end_index, c_int), array, n)
  if (code /= SRNoError) then
    allocate(datasets(0))
    return
  endif
  call adopt_datasets(array, n, datasets)
end function get_datasets_from_list_range

! --- description -----------------------------------------------------------------------------

function to_string(self)
  character(kind=c_char, len=:), allocatable :: to_string
  class(client_type), intent(in) :: self
  to_string = c_string_to_fortran(c_client_to_string(self%client_ptr))
end function to_string

subroutine print_client(self, unit)
  class(client_type), intent(in) :: self
  integer, optional, intent(in) :: unit

  integer :: target_unit
  target_unit = stderr
  if (present(unit)) target_unit = unit
  write(target_unit, '(a)') self%to_string()
end subroutine print_client

! --- small helpers ---------------------------------------------------------------------------

!> An optional integer as C's int, 0 (the C library's "not set") when absent.
integer(kind=c_int) function int_or_zero(value)
  integer, optional, intent(in) :: value
  int_or_zero = 0
  if (present(value)) int_or_zero = int(value, c_int)
end function int_or_zero

!> An optional string, "" when absent.
function text_or_empty(text)
  character(len=*), optional, intent(in) :: text
  character(len=:), allocatable :: text_or_empty
  text_or_empty = ""
  if (present(text)) text_or_empty = trim(text)
end function text_or_empty

!> Copy length bytes at ptr into text, refusing (SRParameterError) when text is too short.
function copy_c_text(ptr, length, text, where) result(code)
  type(c_ptr), intent(in) :: ptr
  integer(kind=c_size_t), intent(in) :: length
  character(len=*), intent(inout) :: text
  character(len=*), intent(in) :: where
  integer(kind=enum_kind) :: code

  character(len=32) :: need
  if (length > len(text, kind=c_size_t)) then
    write(need, '(i0)') length
    code = record_error(SRParameterError, where // ": the string given is shorter than the " // &
                        trim(need) // " bytes stored", where)
    return
  endif
  text = c_string_to_fortran(ptr, length)
  code = SRNoError
end function copy_c_text

end module smartredis_client
