! An ensemble member: stores "x" (prefixed with its SSKEYOUT by the client) holding its name's
! characters, a dataset "ds" (prefixed too), and "plain_<name>" with prefixing switched off. With
! the argument "read", it instead reads every member named in SSKEYIN through set_data_source.
#include "report.inc"

program member

use iso_c_binding, only : c_int8_t
use smartredis_client, only : client_type
use smartredis_dataset, only : dataset_type
use smartredis_errors, only : get_last_error
use report, only : check, finish, note, json_string

implicit none

#include "enum_fortran.inc"

type(client_type) :: client
type(dataset_type) :: dataset
integer(kind=enum_kind) :: code
character(len=256) :: name, mode, sources
integer(kind=c_int8_t), allocatable :: letters(:)
integer(kind=c_int8_t) :: got(5)
logical :: found
integer :: i, start, comma
character(len=:), allocatable :: seen

call get_command_argument(1, mode)
call get_environment_variable("SSKEYOUT", name)
code = client%initialize("fortran_member")
call check(code == SRNoError, "initialize: " // get_last_error())
if (code /= SRNoError) call finish()

if (trim(mode) == "read") then
  ! Each source's "x" (5 letters: ens_0, ens_1, ...) through set_data_source.
  call get_environment_variable("SSKEYIN", sources)
  seen = ""
  start = 1
  do
    comma = index(sources(start:), ",")
    if (comma == 0) then
      comma = len_trim(sources) + 1
    else
      comma = start + comma - 1
    endif
    code = client%set_data_source(sources(start:comma - 1))
    call check(code == SRNoError, "set_data_source: " // get_last_error())
    code = client%poll_tensor("x", 50, 100, found)
    call check(code == SRNoError .and. found, "poll x of " // sources(start:comma - 1))
    got = 0
    code = client%unpack_tensor("x", got, shape(got))
    call check(code == SRNoError, "unpack x: " // get_last_error())
    do i = 1, 5
      seen = seen // achar(got(i))
    enddo
    seen = seen // " "
    if (comma > len_trim(sources)) exit
    start = comma + 1
  enddo
  call note("seen", json_string(trim(seen)))
else
  allocate(letters(len_trim(name)))
  do i = 1, len_trim(name)
    letters(i) = int(iachar(name(i:i)), c_int8_t)
  enddo
  code = client%put_tensor("x", letters, shape(letters))
  call check(code == SRNoError, "put x: " // get_last_error())
  code = client%tensor_exists("x", found)
  call check(code == SRNoError .and. found, "x exists under the member's prefix")

  code = dataset%initialize("ds")
  call check(code == SRNoError, "dataset initialize: " // get_last_error())
  code = dataset%add_meta_string("owner", trim(name))
  call check(code == SRNoError, "add_meta_string: " // get_last_error())
  code = client%put_dataset(dataset)
  call check(code == SRNoError, "put_dataset: " // get_last_error())

  code = client%use_tensor_ensemble_prefix(.false.)
  call check(code == SRNoError, "use_tensor_ensemble_prefix: " // get_last_error())
  code = client%put_tensor("plain_" // trim(name), letters, shape(letters))
  call check(code == SRNoError, "put plain: " // get_last_error())
endif

code = client%destructor()
call finish()

end program member
