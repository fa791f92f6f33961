! Datasets and aggregation lists between Fortran and Python: writes "f_ds" (tensors of two kinds,
! scalar and string metadata) and appends it to the list "f_list"; reads "py_ds" that the test
! stored (a float64 2x3 tensor, int64 scalars "steps", strings "labels").
#include "report.inc"

program datasets

use iso_c_binding, only : c_double, c_int16_t, c_int64_t, c_float, c_int32_t
use smartredis_client, only : client_type
use smartredis_dataset, only : dataset_type
use smartredis_errors, only : get_last_error
use report, only : check, finish

implicit none

#include "enum_fortran.inc"

type(client_type) :: client
type(dataset_type) :: ds, got
type(dataset_type), allocatable :: members(:)
integer(kind=enum_kind) :: code, kind_found
real(kind=c_double) :: field(2, 3), field_back(2, 3), py_t(2, 3)
integer(kind=c_int16_t) :: counts(4)
integer(kind=c_int64_t), dimension(:), pointer :: steps
real(kind=c_float), dimension(:), pointer :: floats
character(len=:), allocatable, dimension(:) :: labels
integer :: dims(8), n_dims, n, i, j

code = client%initialize("fortran_datasets")
call check(code == SRNoError, "initialize: " // get_last_error())
if (code /= SRNoError) call finish()

! --- written here, read by Python -------------------------------------------------------------
do j = 1, 3
  do i = 1, 2
    field(i, j) = 10 * i + j + 0.5_c_double
  enddo
enddo
counts = [-3_c_int16_t, -1_c_int16_t, 1_c_int16_t, 3_c_int16_t]
code = ds%initialize("f_ds")
call check(code == SRNoError, "initialize f_ds: " // get_last_error())
code = ds%add_tensor("field", field, shape(field))
call check(code == SRNoError, "add_tensor field: " // get_last_error())
code = ds%add_tensor("counts", counts, shape(counts))
call check(code == SRNoError, "add_tensor counts: " // get_last_error())
code = ds%add_meta_scalar("dt", 0.25_c_double)
code = ds%add_meta_scalar("dt", -1.5_c_double)
call check(code == SRNoError, "add_meta_scalar dt: " // get_last_error())
code = ds%add_meta_scalar("step", 7_c_int32_t)
call check(code == SRNoError, "add_meta_scalar step: " // get_last_error())
code = ds%add_meta_scalar("ratio", 0.5_c_float)
call check(code == SRNoError, "add_meta_scalar ratio: " // get_last_error())
code = ds%add_meta_string("mesh", "coarse")
code = ds%add_meta_string("mesh", "fine mesh")
call check(code == SRNoError, "add_meta_string: " // get_last_error())

! the dataset reads back its own tensor and metadata before it is stored
field_back = 0
code = ds%unpack_dataset_tensor("field", field_back, shape(field_back))
call check(code == SRNoError .and. all(field_back == field), "unpack_dataset_tensor in memory")
code = ds%get_meta_scalars("ratio", floats)
call check(code == SRNoError .and. size(floats) == 1, "get_meta_scalars ratio")
if (code == SRNoError) call check(floats(1) == 0.5_c_float, "ratio value")

code = client%put_dataset(ds)
call check(code == SRNoError, "put_dataset: " // get_last_error())
code = client%append_to_list("f_list", ds)
call check(code == SRNoError, "append_to_list: " // get_last_error())
code = client%append_to_list("f_list", ds)
code = client%get_list_length("f_list", n)
call check(code == SRNoError .and. n == 2, "get_list_length f_list")

code = client%get_datasets_from_list("f_list", members, n)
call check(code == SRNoError .and. n == 2 .and. size(members) == 2, "get_datasets_from_list")
if (code == SRNoError .and. n == 2) then
  field_back = 0
  code = members(2)%unpack_dataset_tensor("field", field_back, shape(field_back))
  call check(code == SRNoError .and. all(field_back == field), "a list member's tensor")
  do i = 1, n
    code = members(i)%destructor()
  enddo
endif

! --- written by Python, read here -------------------------------------------------------------
code = client%get_dataset("py_ds", got)
call check(code == SRNoError, "get_dataset py_ds: " // get_last_error())
if (code == SRNoError) then
  n_dims = size(dims)
  code = got%get_tensor_dims("t", dims, n_dims)
  call check(code == SRNoError .and. n_dims == 2, "get_tensor_dims t: " // get_last_error())
  if (code == SRNoError) call check(all(dims(1:2) == [2, 3]), "dims of t are Python's shape")
  code = got%get_tensor_type("t", kind_found)
  call check(code == SRNoError .and. kind_found == tensor_dbl, "t is a double tensor")
  py_t = 0
  code = got%unpack_dataset_tensor("t", py_t, shape(py_t))
  call check(code == SRNoError, "unpack t: " // get_last_error())
  ! Python's t is arange(6).reshape(2, 3): x[i, j] = 3 i + j, so t(i, j) = 3 (i-1) + (j-1)
  call check(all(py_t == reshape([0, 3, 1, 4, 2, 5], [2, 3]) * 1.0_c_double), "values of t")
  code = got%get_meta_scalars("steps", steps)
  call check(code == SRNoError, "get_meta_scalars steps: " // get_last_error())
  if (code == SRNoError) call check(all(steps == [1, 2, 3]), "values of steps")
  code = got%get_metadata_field_type("labels", kind_found)
  call check(code == SRNoError .and. kind_found == meta_string, "labels is a string field")
  code = got%get_meta_strings("labels", labels)
  call check(code == SRNoError, "get_meta_strings labels: " // get_last_error())
  if (code == SRNoError) call check(size(labels) == 2, "two labels")
  if (code == SRNoError .and. size(labels) == 2) then
    call check(labels(1) == "a" .and. labels(2) == "b", "values of labels")
  endif
  code = got%destructor()
endif

code = client%destructor()
call finish()

end program datasets
