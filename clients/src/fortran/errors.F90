! The last error of this thread, as SmartRedis's smartredis_errors module gives it: every function
! of the other modules returns an SRError code, and these say what went wrong and where.
module smartredis_errors

use iso_c_binding, only : c_char
use, intrinsic :: iso_fortran_env, only : stderr => error_unit
use smartflow_c_api, only : c_get_last_error, c_get_last_error_location
use fortran_c_interop, only : c_string_to_fortran

implicit none; private

public :: get_last_error, get_last_error_location, print_last_error

contains

!> The message of this thread's last error, then (on the next line) where it was raised, as
!! SmartRedis 0.6 returns it; "" when nothing has failed.
function get_last_error()
  character(kind=c_char, len=:), allocatable :: get_last_error

  character(len=:), allocatable :: message
  message = c_string_to_fortran(c_get_last_error())
  if (len(message) == 0) then
    get_last_error = ""
  else
    get_last_error = message // new_line('a') // get_last_error_location()
  endif
end function get_last_error

!> Where this thread's last error was raised.
function get_last_error_location()
  character(kind=c_char, len=:), allocatable :: get_last_error_location

  get_last_error_location = c_string_to_fortran(c_get_last_error_location())
end function get_last_error_location

!> Write the last error to unit (standard error by default).
subroutine print_last_error(unit)
  integer, optional, intent(in) :: unit

  integer :: target_unit
  target_unit = stderr
  if (present(unit)) target_unit = unit
  write(target_unit, '(a)') get_last_error()
end subroutine print_last_error

end module smartredis_errors
