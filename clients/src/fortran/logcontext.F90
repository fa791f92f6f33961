! A named context to log against (SmartRedis 0.6's smartredis_logcontext), for programs that log
! with neither a client nor a dataset at hand.
module smartredis_logcontext

use iso_c_binding, only : c_ptr, c_null_ptr, c_size_t
use smartflow_c_api, only : c_create_logcontext, c_deallocate_logcontext

implicit none; private

#include "enum_fortran.inc"


type, public :: logcontext_type
  type(c_ptr) :: logcontext_ptr = c_null_ptr !< The C library's log context
contains
  !> Create the context with a name that prefixes its log lines
  procedure :: initialize => initialize_logcontext
  !> The C library's pointer
  procedure :: get_c_pointer
  !> Release the context (smartflow extension)
  procedure :: destructor
end type logcontext_type

contains

function initialize_logcontext(self, context) result(code)
  class(logcontext_type), intent(inout) :: self
  character(len=*), intent(in) :: context
  integer(kind=enum_kind) :: code

  code = c_create_logcontext(context, len_trim(context, kind=c_size_t), self%logcontext_ptr)
end function initialize_logcontext

function get_c_pointer(self)
  type(c_ptr) :: get_c_pointer
  class(logcontext_type), intent(in) :: self
  get_c_pointer = self%logcontext_ptr
end function get_c_pointer

function destructor(self) result(code)
  class(logcontext_type), intent(inout) :: self
  integer(kind=enum_kind) :: code

  code = c_deallocate_logcontext(self%logcontext_ptr)
  self%logcontext_ptr = c_null_ptr
end function destructor

end module smartredis_logcontext
