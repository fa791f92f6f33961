! Helpers shared by the smartredis_* modules for crossing into the C library: the kind of C enums,
! SmartRedis's convert_char_array_to_c, and smartflow's own checks and conversions. The checks
! record their message with the C library (SRSetLastErrorMessage), so that get_last_error() tells
! a Fortran-side refusal and a C-side failure the same way.
module fortran_c_interop

use iso_c_binding, only : c_ptr, c_char, c_size_t, c_int, c_loc, c_null_ptr, c_null_char, &
                          c_associated, c_f_pointer
use smartflow_c_api, only : c_set_last_error_message, c_strlen

implicit none; private

#include "enum_fortran.inc"

! enum_kind (the kind of C enums: SRError and the others) comes from enum_fortran.inc above.
public :: enum_kind
!> SmartRedis's longest string in convert_char_array_to_c (kept for programs that call it;
!! smartflow's own procedures have no such limit).
integer, parameter, public :: C_MAX_STRING = 255

public :: convert_char_array_to_c
public :: record_error, c_string_to_fortran, tensor_dims_to_c, string_array_view
public :: c_string_array_to_fortran, c_len

contains

!> A string's length as the C library takes it: trailing blanks dropped, as SmartRedis does with
!! every name (Fortran pads fixed-length strings with blanks).
elemental function c_len(text)
  character(len=*), intent(in) :: text
  integer(kind=c_size_t) :: c_len
  c_len = len_trim(text, kind=c_size_t)
end function c_len

!> SmartRedis's helper: copies of a character array's strings, pointers to each and their
!! lengths, ready for a C function taking (const char**, const size_t*, size_t).
function convert_char_array_to_c(character_array_f, character_array_c, string_ptrs, &
    ptr_to_string_ptrs, string_lengths, ptr_to_string_lengths, n_strings) result(code)
  character(len=*), dimension(:), intent(in) :: character_array_f
  character(kind=c_char, len=C_MAX_STRING), dimension(:), allocatable, target, &
      intent(out) :: character_array_c
  type(c_ptr), dimension(:), allocatable, target, intent(out) :: string_ptrs
  type(c_ptr), intent(out) :: ptr_to_string_ptrs
  integer(kind=c_size_t), dimension(:), allocatable, target, intent(out) :: string_lengths
  type(c_ptr), intent(out) :: ptr_to_string_lengths
  integer(kind=c_size_t), intent(out) :: n_strings
  integer(kind=enum_kind) :: code

  integer(kind=c_size_t) :: i

  code = SRNoError
  n_strings = size(character_array_f, kind=c_size_t)
  allocate(character_array_c(n_strings), string_ptrs(n_strings), string_lengths(n_strings))
  do i = 1, n_strings
    string_lengths(i) = len_trim(character_array_f(i), kind=c_size_t)
    if (string_lengths(i) > C_MAX_STRING) then
      code = record_error(SRParameterError, "convert_char_array_to_c: a string is longer than " // &
                          "C_MAX_STRING (255) characters", "convert_char_array_to_c")
      return
    endif
    character_array_c(i) = character_array_f(i)
    string_ptrs(i) = c_null_ptr
    if (string_lengths(i) > 0) string_ptrs(i) = c_loc(character_array_c(i))
  enddo
  ptr_to_string_ptrs = c_loc(string_ptrs)
  ptr_to_string_lengths = c_loc(string_lengths)
end function convert_char_array_to_c

!> Record an error the Fortran layer found (as the C library records its own) and return its code.
function record_error(code, message, location) result(same_code)
  integer(kind=enum_kind), intent(in) :: code
  character(len=*), intent(in) :: message, location
  integer(kind=enum_kind) :: same_code

  call c_set_last_error_message(code, trim(message) // c_null_char, &
                                "smartflow-fortran:" // trim(location) // c_null_char)
  same_code = code
end function record_error

!> A Fortran copy of a C string: length characters at ptr, or up to its NUL when length is absent.
function c_string_to_fortran(ptr, length) result(text)
  type(c_ptr), intent(in) :: ptr
  integer(kind=c_size_t), optional, intent(in) :: length
  character(len=:), allocatable :: text

  character(kind=c_char), dimension(:), pointer :: chars
  integer(kind=c_size_t) :: n, i

  if (.not. c_associated(ptr)) then
    text = ""
    return
  endif
  if (present(length)) then
    n = length
  else
    n = c_strlen(ptr)
  endif
  call c_f_pointer(ptr, chars, [n])
  allocate(character(len=n) :: text)
  do i = 1, n
    text(i:i) = chars(i)
  enddo
end function c_string_to_fortran

!> A C array of (char*, length) pairs as a Fortran array of strings, each as long as the longest
!! (shorter ones blank-padded, as Fortran character arrays are).
subroutine c_string_array_to_fortran(ptrs, lengths, n_strings, strings)
  type(c_ptr), intent(in) :: ptrs, lengths
  integer(kind=c_size_t), intent(in) :: n_strings
  character(len=:), allocatable, dimension(:), intent(out) :: strings

  type(c_ptr), dimension(:), pointer :: string_ptrs
  integer(kind=c_size_t), dimension(:), pointer :: string_lengths
  integer(kind=c_size_t) :: i, longest

  if (n_strings == 0 .or. .not. c_associated(ptrs)) then
    allocate(character(len=0) :: strings(0))
    return
  endif
  call c_f_pointer(ptrs, string_ptrs, [n_strings])
  call c_f_pointer(lengths, string_lengths, [n_strings])
  longest = maxval(string_lengths)
  allocate(character(len=longest) :: strings(n_strings))
  do i = 1, n_strings
    strings(i) = c_string_to_fortran(string_ptrs(i), string_lengths(i))
  enddo
end subroutine c_string_array_to_fortran

!> Check a tensor's dims against the array they describe and convert them for C. Refuses (with
!! SRParameterError and a message) no dims, a dim below 1, and dims whose product is not the
!! array's size: the C library trusts dims for how much memory it reads or writes, so a mismatch
!! would read past the array or write past it.
function tensor_dims_to_c(dims, n_elements, c_dims, where) result(code)
  integer, dimension(:), intent(in) :: dims
  integer(kind=c_size_t), intent(in) :: n_elements
  integer(kind=c_size_t), dimension(:), allocatable, intent(out) :: c_dims
  character(len=*), intent(in) :: where
  integer(kind=enum_kind) :: code

  character(len=64) :: have, want

  allocate(c_dims(size(dims)))
  if (size(dims) == 0) then
    code = record_error(SRParameterError, trim(where) // ": dims is empty (give the length of " // &
                        "each dimension, e.g. shape(array))", where)
    return
  endif
  if (any(dims < 1)) then
    code = record_error(SRParameterError, trim(where) // ": every entry of dims must be at " // &
                        "least 1", where)
    return
  endif
  c_dims = int(dims, kind=c_size_t)
  if (product(c_dims) /= n_elements) then
    write(have, '(i0)') product(c_dims)
    write(want, '(i0)') n_elements
    code = record_error(SRParameterError, trim(where) // ": dims describe " // trim(have) // &
                        " elements but the array holds " // trim(want), where)
    return
  endif
  code = SRNoError
end function tensor_dims_to_c

!> Pointers to each string of a character array and their trimmed lengths, for a C function
!! taking (const char**, const size_t*, size_t). The strings are not copied: the pointers stay
!! valid while the array does (the caller's dummy argument must have the target attribute).
subroutine string_array_view(strings, ptrs, lengths)
  character(len=*), dimension(:), target, intent(in) :: strings
  type(c_ptr), dimension(:), allocatable, intent(out) :: ptrs
  integer(kind=c_size_t), dimension(:), allocatable, intent(out) :: lengths

  integer :: i

  allocate(ptrs(size(strings)), lengths(size(strings)))
  do i = 1, size(strings)
    ptrs(i) = c_loc(strings(i))
    lengths(i) = len_trim(strings(i), kind=c_size_t)
  enddo
end subroutine string_array_view

end module fortran_c_interop
