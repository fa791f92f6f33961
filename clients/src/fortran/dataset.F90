! Datasets (SmartRedis 0.6's smartredis_dataset): named groups of tensors and metadata built in
! memory, then stored and fetched whole by a client (put_dataset, get_dataset).
module smartredis_dataset

use iso_c_binding, only : c_ptr, c_null_ptr, c_char, c_size_t, c_loc, c_f_pointer, c_associated
use iso_c_binding, only : c_int8_t, c_int16_t, c_int32_t, c_int64_t, c_float, c_double
use, intrinsic :: iso_fortran_env, only : stderr => error_unit
use smartflow_c_api, only : c_create_dataset, c_deallocate_dataset, c_dataset_to_string, &
                            c_add_tensor, c_unpack_dataset_tensor, c_add_meta_scalar, &
                            c_add_meta_string, c_get_meta_scalars, c_get_meta_strings, &
                            c_get_tensor_names, c_get_metadata_field_names, c_get_tensor_type, &
                            c_get_tensor_dims, c_get_metadata_field_type
use fortran_c_interop, only : record_error, c_string_to_fortran, tensor_dims_to_c, &
                              c_string_array_to_fortran

implicit none; private

#include "enum_fortran.inc"


!> A dataset: tensors and metadata under one name
type, public :: dataset_type
  type(c_ptr) :: dataset_ptr = c_null_ptr !< The C library's dataset
contains
  !> Create an empty dataset with a name
  procedure :: initialize => initialize_dataset
  !> The C library's pointer
  procedure :: get_c_pointer
  !> Release the dataset (smartflow extension; SmartRedis leaves it to process exit)
  procedure :: destructor

  !> Add a tensor of real(4/8) or integer(1/2/4/8) elements and any rank
  generic :: add_tensor => add_tensor_i8, add_tensor_i16, add_tensor_i32, add_tensor_i64, &
                           add_tensor_float, add_tensor_double
  !> Copy one of the dataset's tensors into an array of its shape and kind
  generic :: unpack_dataset_tensor => unpack_dataset_tensor_i8, unpack_dataset_tensor_i16, &
                                      unpack_dataset_tensor_i32, unpack_dataset_tensor_i64, &
                                      unpack_dataset_tensor_float, unpack_dataset_tensor_double
  !> The element type of a tensor (tensor_dbl, tensor_flt, tensor_int8 ...)
  procedure :: get_tensor_type
  !> The dimensions of a tensor
  procedure :: get_tensor_dims
  !> The names of the dataset's tensors (smartflow extension)
  procedure :: get_tensor_names

  !> Append a scalar (real(4/8), integer(4/8)) to a metadata field
  generic :: add_meta_scalar => add_meta_scalar_double, add_meta_scalar_float, &
                                add_meta_scalar_i32, add_meta_scalar_i64
  !> A metadata field's scalars, as a pointer into the dataset (valid while the dataset is)
  generic :: get_meta_scalars => get_meta_scalars_double, get_meta_scalars_float, &
                                 get_meta_scalars_i32, get_meta_scalars_i64
  !> Append a string to a metadata field
  procedure :: add_meta_string
  !> A metadata field's strings (smartflow extension)
  procedure :: get_meta_strings
  !> The type of a metadata field (meta_dbl, meta_flt, meta_int32, meta_int64, meta_string)
  procedure :: get_metadata_field_type
  !> The names of the dataset's metadata fields (smartflow extension)
  procedure :: get_metadata_field_names

  !> A description of the dataset
  procedure :: to_string
  !> Write the description to a unit (standard error by default)
  procedure :: print_dataset

  procedure, private :: add_tensor_i8, add_tensor_i16, add_tensor_i32, add_tensor_i64
  procedure, private :: add_tensor_float, add_tensor_double
  procedure, private :: unpack_dataset_tensor_i8, unpack_dataset_tensor_i16
  procedure, private :: unpack_dataset_tensor_i32, unpack_dataset_tensor_i64
  procedure, private :: unpack_dataset_tensor_float, unpack_dataset_tensor_double
  procedure, private :: add_meta_scalar_double, add_meta_scalar_float
  procedure, private :: add_meta_scalar_i32, add_meta_scalar_i64
  procedure, private :: get_meta_scalars_double, get_meta_scalars_float
  procedure, private :: get_meta_scalars_i32, get_meta_scalars_i64
end type dataset_type

contains

function initialize_dataset(self, name) result(code)
  class(dataset_type), intent(inout) :: self
  character(len=*), intent(in) :: name
  integer(kind=enum_kind) :: code

  code = c_create_dataset(name, len_trim(name, kind=c_size_t), self%dataset_ptr)
end function initialize_dataset

function get_c_pointer(self)
  type(c_ptr) :: get_c_pointer
  class(dataset_type), intent(in) :: self
  get_c_pointer = self%dataset_ptr
end function get_c_pointer

function destructor(self) result(code)
  class(dataset_type), intent(inout) :: self
  integer(kind=enum_kind) :: code

  code = c_deallocate_dataset(self%dataset_ptr)
  self%dataset_ptr = c_null_ptr
end function destructor

! --- tensors: add_tensor_<kind> and unpack_dataset_tensor_<kind> from the template ---------
#define SF_SELF_TYPE dataset_type
#define SF_SELF_PTR dataset_ptr
#define SF_C_SEND c_add_tensor
#define SF_C_RECV c_unpack_dataset_tensor
#define SF_SEND_LABEL "add_tensor"
#define SF_RECV_LABEL "unpack_dataset_tensor"
#define SF_SEND_I8 add_tensor_i8
#define SF_SEND_I16 add_tensor_i16
#define SF_SEND_I32 add_tensor_i32
#define SF_SEND_I64 add_tensor_i64
#define SF_SEND_FLOAT add_tensor_float
#define SF_SEND_DOUBLE add_tensor_double
#define SF_RECV_I8 unpack_dataset_tensor_i8
#define SF_RECV_I16 unpack_dataset_tensor_i16
#define SF_RECV_I32 unpack_dataset_tensor_i32
#define SF_RECV_I64 unpack_dataset_tensor_i64
#define SF_RECV_FLOAT unpack_dataset_tensor_float
#define SF_RECV_DOUBLE unpack_dataset_tensor_double
#include "tensor_kinds.inc"

function get_tensor_type(self, name, ttype) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer(kind=enum_kind), intent(out) :: ttype !< Receives tensor_dbl, tensor_flt, ...
  integer(kind=enum_kind) :: code

  code = c_get_tensor_type(self%dataset_ptr, name, len_trim(name, kind=c_size_t), ttype)
end function get_tensor_type

!> dims receives the tensor's dimensions; dims_length is how many slots of dims to use on entry
!! and the tensor's rank on return (when dims is too small: SRBadAllocError, and dims_length is
!! the rank needed).
function get_tensor_dims(self, name, dims, dims_length) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer, dimension(:), intent(inout) :: dims
  integer, intent(inout) :: dims_length
  integer(kind=enum_kind) :: code

  integer(kind=c_size_t), dimension(:), allocatable, target :: c_dims
  integer(kind=c_size_t) :: c_length
  type(c_ptr) :: buffer

  if (dims_length < 0 .or. dims_length > size(dims)) then
    code = record_error(SRParameterError, "get_tensor_dims: dims_length must be between 0 " // &
                        "and size(dims)", "get_tensor_dims")
    return
  endif
  allocate(c_dims(max(dims_length, 1)))
  c_dims = 0
  buffer = c_loc(c_dims)
  c_length = dims_length
  code = c_get_tensor_dims(self%dataset_ptr, name, len_trim(name, kind=c_size_t), buffer, c_length)
  if (code == SRNoError) dims(1:c_length) = int(c_dims(1:c_length))
  if (code == SRNoError .or. code == SRBadAllocError) dims_length = int(c_length)
end function get_tensor_dims

function get_tensor_names(self, names) result(code)
  class(dataset_type), intent(in) :: self
  character(len=:), allocatable, dimension(:), intent(out) :: names
  integer(kind=enum_kind) :: code

  type(c_ptr) :: ptrs, lengths
  integer(kind=c_size_t) :: n

  code = c_get_tensor_names(self%dataset_ptr, ptrs, n, lengths)
  if (code == SRNoError) call c_string_array_to_fortran(ptrs, lengths, n, names)
end function get_tensor_names

! --- metadata -------------------------------------------------------------------------------

function add_meta_scalar_i32(self, name, meta) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer(kind=c_int32_t), target, intent(in) :: meta
  integer(kind=enum_kind) :: code
  code = c_add_meta_scalar(self%dataset_ptr, name, len_trim(name, kind=c_size_t), c_loc(meta), &
                           meta_int32)
end function add_meta_scalar_i32

function add_meta_scalar_i64(self, name, meta) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer(kind=c_int64_t), target, intent(in) :: meta
  integer(kind=enum_kind) :: code
  code = c_add_meta_scalar(self%dataset_ptr, name, len_trim(name, kind=c_size_t), c_loc(meta), &
                           meta_int64)
end function add_meta_scalar_i64

function add_meta_scalar_float(self, name, meta) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  real(kind=c_float), target, intent(in) :: meta
  integer(kind=enum_kind) :: code
  code = c_add_meta_scalar(self%dataset_ptr, name, len_trim(name, kind=c_size_t), c_loc(meta), &
                           meta_flt)
end function add_meta_scalar_float

function add_meta_scalar_double(self, name, meta) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  real(kind=c_double), target, intent(in) :: meta
  integer(kind=enum_kind) :: code
  code = c_add_meta_scalar(self%dataset_ptr, name, len_trim(name, kind=c_size_t), c_loc(meta), &
                           meta_dbl)
end function add_meta_scalar_double

!> The scalars of a field, checked against the kind asked for: a field of another type gives
!! SRTypeError (and a null meta) rather than a pointer that reads the wrong bits.
function locate_meta_scalars(self, name, wanted, where, data, length) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name, where
  integer(kind=enum_kind), intent(in) :: wanted
  type(c_ptr), intent(out) :: data
  integer(kind=c_size_t), intent(out) :: length
  integer(kind=enum_kind) :: code

  integer(kind=enum_kind) :: found
  character(len=16) :: found_text, wanted_text

  code = c_get_meta_scalars(self%dataset_ptr, name, len_trim(name, kind=c_size_t), length, &
                            found, data)
  if (code /= SRNoError) return
  if (found /= wanted) then
    write(found_text, '(i0)') found
    write(wanted_text, '(i0)') wanted
    code = record_error(SRTypeError, "get_meta_scalars: metadata field '" // trim(name) // &
                        "' holds type " // trim(found_text) // ", not the " // trim(where) // &
                        " (type " // trim(wanted_text) // ") asked for", "get_meta_scalars")
  endif
end function locate_meta_scalars

function get_meta_scalars_i32(self, name, meta) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer(kind=c_int32_t), dimension(:), pointer :: meta
  integer(kind=enum_kind) :: code

  type(c_ptr) :: data
  integer(kind=c_size_t) :: length
  meta => null()
  code = locate_meta_scalars(self, name, meta_int32, "integer(4)", data, length)
  if (code == SRNoError) call c_f_pointer(data, meta, [length])
end function get_meta_scalars_i32

function get_meta_scalars_i64(self, name, meta) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer(kind=c_int64_t), dimension(:), pointer :: meta
  integer(kind=enum_kind) :: code

  type(c_ptr) :: data
  integer(kind=c_size_t) :: length
  meta => null()
  code = locate_meta_scalars(self, name, meta_int64, "integer(8)", data, length)
  if (code == SRNoError) call c_f_pointer(data, meta, [length])
end function get_meta_scalars_i64

function get_meta_scalars_float(self, name, meta) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  real(kind=c_float), dimension(:), pointer :: meta
  integer(kind=enum_kind) :: code

  type(c_ptr) :: data
  integer(kind=c_size_t) :: length
  meta => null()
  code = locate_meta_scalars(self, name, meta_flt, "real(4)", data, length)
  if (code == SRNoError) call c_f_pointer(data, meta, [length])
end function get_meta_scalars_float

function get_meta_scalars_double(self, name, meta) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  real(kind=c_double), dimension(:), pointer :: meta
  integer(kind=enum_kind) :: code

  type(c_ptr) :: data
  integer(kind=c_size_t) :: length
  meta => null()
  code = locate_meta_scalars(self, name, meta_dbl, "real(8)", data, length)
  if (code == SRNoError) call c_f_pointer(data, meta, [length])
end function get_meta_scalars_double

function add_meta_string(self, name, meta) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name, meta
  integer(kind=enum_kind) :: code

  code = c_add_meta_string(self%dataset_ptr, name, len_trim(name, kind=c_size_t), meta, &
                           len_trim(meta, kind=c_size_t))
end function add_meta_string

!> A string field's values, each blank-padded to the longest (trim() gives each back).
function get_meta_strings(self, name, meta) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  character(len=:), allocatable, dimension(:), intent(out) :: meta
  integer(kind=enum_kind) :: code

  type(c_ptr) :: ptrs, lengths
  integer(kind=c_size_t) :: n

  code = c_get_meta_strings(self%dataset_ptr, name, len_trim(name, kind=c_size_t), ptrs, n, &
                            lengths)
  if (code == SRNoError) call c_string_array_to_fortran(ptrs, lengths, n, meta)
end function get_meta_strings

function get_metadata_field_type(self, name, mdtype) result(code)
  class(dataset_type), intent(in) :: self
  character(len=*), intent(in) :: name
  integer(kind=enum_kind), intent(out) :: mdtype !< Receives meta_dbl, meta_flt, ...
  integer(kind=enum_kind) :: code

  code = c_get_metadata_field_type(self%dataset_ptr, name, len_trim(name, kind=c_size_t), mdtype)
end function get_metadata_field_type

function get_metadata_field_names(self, names) result(code)
  class(dataset_type), intent(in) :: self
  character(len=:), allocatable, dimension(:), intent(out) :: names
  integer(kind=enum_kind) :: code

  type(c_ptr) :: ptrs, lengths
  integer(kind=c_size_t) :: n

  code = c_get_metadata_field_names(self%dataset_ptr, ptrs, n, lengths)
  if (code == SRNoError) call c_string_array_to_fortran(ptrs, lengths, n, names)
end function get_metadata_field_names

! --- description ------------------------------------------------------------------------------

function to_string(self)
  character(kind=c_char, len=:), allocatable :: to_string
  class(dataset_type), intent(in) :: self

  to_string = c_string_to_fortran(c_dataset_to_string(self%dataset_ptr))
end function to_string

subroutine print_dataset(self, unit)
  class(dataset_type), intent(in) :: self
  integer, optional, intent(in) :: unit

  integer :: target_unit
  target_unit = stderr
  if (present(unit)) target_unit = unit
  write(target_unit, '(a)') self%to_string()
end subroutine print_dataset

end module smartredis_dataset
