! A Fortran run_model of ONNX models, and run_script of a script: "add" (stored from Python) and "add_f" (stored here with
! set_model_from_file, from the path given as the first argument). Both take a and b, float32
! [batch, 3], and give sum = a + b and diff = a - b.
#include "report.inc"

program run_model

use iso_c_binding, only : c_float
use smartredis_client, only : client_type
use smartredis_errors, only : get_last_error
use report, only : check, finish

implicit none

#include "enum_fortran.inc"

type(client_type) :: client
integer(kind=enum_kind) :: code
real(kind=c_float) :: a(2, 3), b(2, 3), total(2, 3), diff(2, 3)
character(len=4096) :: model_file
logical :: found
integer :: i, j

call get_command_argument(1, model_file)
code = client%initialize("fortran_run_model")
call check(code == SRNoError, "initialize: " // get_last_error())
if (code /= SRNoError) call finish()

do j = 1, 3
  do i = 1, 2
    a(i, j) = 10 * i + j
    b(i, j) = 0.5 * j
  enddo
enddo
code = client%put_tensor("a", a, shape(a))
call check(code == SRNoError, "put a: " // get_last_error())
code = client%put_tensor("b", b, shape(b))
call check(code == SRNoError, "put b: " // get_last_error())

code = client%poll_model("add", 50, 100, found)
call check(code == SRNoError .and. found, "poll_model add: " // get_last_error())
code = client%run_model("add", ["a", "b"], ["sum ", "diff"])
call check(code == SRNoError, "run_model add: " // get_last_error())
total = 0
diff = 0
code = client%unpack_tensor("sum", total, shape(total))
call check(code == SRNoError .and. all(total == a + b), "sum of add: " // get_last_error())
code = client%unpack_tensor("diff", diff, shape(diff))
call check(code == SRNoError .and. all(diff == a - b), "diff of add: " // get_last_error())

code = client%set_model_from_file("add_f", trim(model_file), "ONNX", "CPU")
call check(code == SRNoError, "set_model_from_file: " // get_last_error())
code = client%model_exists("add_f", found)
call check(code == SRNoError .and. found, "model_exists add_f: " // get_last_error())
code = client%run_model("add_f", ["b", "a"], ["sum_f ", "diff_f"])
call check(code == SRNoError, "run_model add_f: " // get_last_error())
code = client%unpack_tensor("diff_f", diff, shape(diff))
call check(code == SRNoError .and. all(diff == b - a), "diff of add_f: " // get_last_error())
code = client%delete_model("add_f")
call check(code == SRNoError, "delete_model: " // get_last_error())
code = client%model_exists("add_f", found)
call check(code == SRNoError .and. .not. found, "add_f is gone")

! A script (Python source in smartflow) stored and run from Fortran.
code = client%set_script("scaler", "CPU", "def double(x):" // new_line("a") // "    return 2 * x")
call check(code == SRNoError, "set_script: " // get_last_error())
code = client%run_script("scaler", "double", ["a"], ["doubled"])
call check(code == SRNoError, "run_script: " // get_last_error())
total = 0
code = client%unpack_tensor("doubled", total, shape(total))
call check(code == SRNoError .and. all(total == 2 * a), "doubled by the script")

code = client%destructor()
call finish()

end program run_model
