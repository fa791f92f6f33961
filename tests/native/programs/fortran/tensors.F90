! Tensors of every kind SmartRedis's Fortran API takes (integer(1/2/4/8), real(4/8)) and ranks
! 1-4 between Fortran and Python, with the layout rule: a(i,j) in Fortran is x[i-1, j-1] in
! Python. Puts f_<dtype>_<rank>, unpacks py_<dtype>_<rank> (which the test put), and a few
! shapes beyond: a strided section, a scalar, rank 7.
#include "report.inc"

module tensor_checks

use iso_c_binding, only : c_int8_t, c_int16_t, c_int32_t, c_int64_t, c_float, c_double
use smartredis_client, only : client_type
use smartredis_errors, only : get_last_error
use report, only : check

implicit none; private

#include "enum_fortran.inc"

public :: check_int8, check_int16, check_int32, check_int64, check_float, check_double

contains

! The values test_fortran.py's value_at computes, by C-order index i.
#define ELEMENT integer(kind=c_int8_t)
#define DTYPE "int8"
#define CHECK_NAME check_int8
#define VALUE(i) int(mod(i * 7, 101_8) - 50, c_int8_t)
#include "tensor_checks.inc"
#undef ELEMENT
#undef DTYPE
#undef CHECK_NAME
#undef VALUE

#define ELEMENT integer(kind=c_int16_t)
#define DTYPE "int16"
#define CHECK_NAME check_int16
#define VALUE(i) int((mod(i * 7, 101_8) - 50) * 300, c_int16_t)
#include "tensor_checks.inc"
#undef ELEMENT
#undef DTYPE
#undef CHECK_NAME
#undef VALUE

#define ELEMENT integer(kind=c_int32_t)
#define DTYPE "int32"
#define CHECK_NAME check_int32
#define VALUE(i) int((mod(i * 7, 101_8) - 50) * 2_8**20, c_int32_t)
#include "tensor_checks.inc"
#undef ELEMENT
#undef DTYPE
#undef CHECK_NAME
#undef VALUE

#define ELEMENT integer(kind=c_int64_t)
#define DTYPE "int64"
#define CHECK_NAME check_int64
#define VALUE(i) (mod(i * 7, 101_8) - 50) * 2_8**33
#include "tensor_checks.inc"
#undef ELEMENT
#undef DTYPE
#undef CHECK_NAME
#undef VALUE

#define ELEMENT real(kind=c_float)
#define DTYPE "float"
#define CHECK_NAME check_float
#define VALUE(i) real(i, c_float) * 0.5_c_float - 3.25_c_float
#include "tensor_checks.inc"
#undef ELEMENT
#undef DTYPE
#undef CHECK_NAME
#undef VALUE

#define ELEMENT real(kind=c_double)
#define DTYPE "double"
#define CHECK_NAME check_double
#define VALUE(i) real(i, c_double) * 0.1_c_double - 2.0_c_double
#include "tensor_checks.inc"

end module tensor_checks

program tensors

use iso_c_binding, only : c_double, c_int32_t
use smartredis_client, only : client_type
use smartredis_errors, only : get_last_error
use report, only : check, finish
use tensor_checks

implicit none

#include "enum_fortran.inc"

type(client_type) :: client
integer(kind=enum_kind) :: code
real(kind=c_double) :: grid(4, 6), rank7(2, 1, 2, 1, 3, 1, 2), back7(2, 1, 2, 1, 3, 1, 2)
real(kind=c_double) :: scalar
integer(kind=c_int32_t) :: every_other(3)
integer :: i, j

code = client%initialize("fortran_tensors")
call check(code == SRNoError, "initialize: " // get_last_error())
if (code /= SRNoError) call finish()

call check_int8(client)
call check_int16(client)
call check_int32(client)
call check_int64(client)
call check_float(client)
call check_double(client)

! A strided section goes in as the elements it names (the compiler copies it contiguous).
do j = 1, 6
  do i = 1, 4
    grid(i, j) = 10 * i + j
  enddo
enddo
code = client%put_tensor("f_section", grid(1:4:2, 2:6:2), [2, 3])
call check(code == SRNoError, "put f_section: " // get_last_error())
! ...and a section receives in place.
grid = 0
code = client%unpack_tensor("f_section", grid(2:3, 1:5:2), [2, 3])
call check(code == SRNoError, "unpack into a section: " // get_last_error())
call check(grid(2, 1) == 12 .and. grid(3, 1) == 32 .and. grid(2, 5) == 16 .and. &
           grid(3, 5) == 36 .and. grid(1, 1) == 0, "values unpacked into a section")

! Rank 7 and a scalar (assumed rank takes both).
rank7 = reshape([(real(i, c_double), i = 1, size(rank7))], shape(rank7))
code = client%put_tensor("f_rank7", rank7, shape(rank7))
call check(code == SRNoError, "put f_rank7: " // get_last_error())
back7 = 0
code = client%unpack_tensor("f_rank7", back7, shape(back7))
call check(code == SRNoError .and. all(back7 == rank7), "rank 7 round trip")
scalar = 2.5_c_double
code = client%put_tensor("f_scalar", scalar, [1])
call check(code == SRNoError, "put f_scalar: " // get_last_error())

! Python's py_int32_1 read into a rank-2 array of the same size: refused (dims differ).
every_other = 0
code = client%unpack_tensor("py_int32_1", every_other, [3])
call check(code /= SRNoError, "unpacking 5 elements into 3 is refused")

code = client%destructor()
call check(code == SRNoError, "destructor: " // get_last_error())
call finish()

end program tensors
