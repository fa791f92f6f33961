! Bad input gets an SRError code and a message, never a crash. Reports each case's code and
! get_last_error() text. With the argument "connect", only initializes (the test points it at a
! dead store or gives a wrong password).
#include "report.inc"

program bad_input

use iso_c_binding, only : c_double, c_int32_t, c_float
use smartredis_client, only : client_type
use smartredis_dataset, only : dataset_type
use smartredis_errors, only : get_last_error
use report, only : check, finish, note, json_string, code_text

implicit none

#include "enum_fortran.inc"

type(client_type) :: client, never_initialized
type(dataset_type) :: dataset
integer(kind=enum_kind) :: code
character(len=64) :: mode
real(kind=c_double) :: grid(3, 4), flat(12), keep(3, 4)
integer(kind=c_int32_t) :: ints(3, 4)
real(kind=c_float), dimension(:), pointer :: floats
logical :: found

call get_command_argument(1, mode)
code = client%initialize("fortran_bad_input")
if (trim(mode) == "connect") then
  call report_case("connect", code)
  call finish()
endif
call check(code == SRNoError, "initialize: " // get_last_error())
if (code /= SRNoError) call finish()

grid = 1
code = client%put_tensor("grid", grid, shape(grid))
call check(code == SRNoError, "put grid: " // get_last_error())

keep = 7
code = client%unpack_tensor("no_such_tensor", keep, shape(keep))
call report_case("missing_key", code)
call check(all(keep == 7), "a failed unpack leaves the array as it was")

ints = 0
code = client%unpack_tensor("grid", ints, shape(ints))
call report_case("wrong_dtype", code)

code = client%unpack_tensor("grid", keep, [4, 3])
call report_case("mismatched_dims", code)

code = client%unpack_tensor("grid", flat, shape(flat))
call note("flat_unpack_code", code_text(code))

code = client%put_tensor("short", grid, [3, 5])
call report_case("dims_beyond_the_array", code)
code = client%tensor_exists("short", found)
call check(code == SRNoError .and. .not. found, "a refused put stores nothing")

code = client%put_tensor("no_dims", grid, [integer ::])
call report_case("no_dims", code)

code = client%run_model("no_such_model", ["grid"], ["out "])
call report_case("missing_model", code)

code = client%get_dataset("no_such_dataset", dataset)
call report_case("missing_dataset", code)

code = dataset%initialize("ds")
code = dataset%add_meta_scalar("f64", 1.5_c_double)
code = dataset%get_meta_scalars("f64", floats)
call report_case("meta_wrong_kind", code)
call check(.not. associated(floats), "a refused get_meta_scalars gives a null pointer")

code = client%run_script("no_such_script", "f", ["grid"], ["out "])
call report_case("missing_script", code)

code = never_initialized%put_tensor("x", grid, shape(grid))
call report_case("uninitialized_client", code)

code = client%destructor()
call finish()

contains

subroutine report_case(label, case_code)
  character(len=*), intent(in) :: label
  integer(kind=enum_kind), intent(in) :: case_code
  call note(label, '{"code": ' // code_text(case_code) // ', "message": ' // &
                   json_string(get_last_error()) // '}')
end subroutine report_case

end program bad_input
