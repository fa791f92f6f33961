! Configuration options as SmartRedis 0.6's smartredis_configoptions module has them: read from
! the environment (optionally with a database suffix, SSDB_<suffix> ...), inspected and overridden,
! then handed to client%initialize(cfgopts, logger_name).
module smartredis_configoptions

use iso_c_binding, only : c_ptr, c_null_ptr, c_char, c_size_t, c_int64_t, c_bool
use smartflow_c_api, only : c_create_configoptions_from_environment, c_deallocate_configoptions, &
                            c_get_integer_option, c_get_string_option, c_is_configured, &
                            c_override_integer_option, c_override_string_option
use fortran_c_interop, only : c_string_to_fortran

implicit none; private

#include "enum_fortran.inc"


!> A set of configuration options held by the C library.
type, public :: configoptions_type
  type(c_ptr) :: configoptions_ptr = c_null_ptr !< The C library's options object
contains
  !> The C library's pointer, for the client's constructor
  procedure :: get_c_pointer
  !> Read the options from the environment (db_suffix "" for the unsuffixed variables)
  procedure :: create_configoptions_from_environment
  !> An integer option's value
  procedure :: get_integer_option
  !> A string option's value
  procedure :: get_string_option
  !> Whether an option is set
  procedure :: is_configured
  !> Replace an integer option's value
  procedure :: override_integer_option
  !> Replace a string option's value
  procedure :: override_string_option
  !> Release the options (smartflow extension; SmartRedis leaves them to process exit)
  procedure :: destructor
end type configoptions_type

contains

function get_c_pointer(self)
  type(c_ptr) :: get_c_pointer
  class(configoptions_type), intent(in) :: self
  get_c_pointer = self%configoptions_ptr
end function get_c_pointer

function create_configoptions_from_environment(self, db_suffix) result(code)
  class(configoptions_type), intent(inout) :: self
  character(len=*), intent(in) :: db_suffix !< Suffix of the variables' names; "" for none
  integer(kind=enum_kind) :: code

  code = c_create_configoptions_from_environment(db_suffix, len_trim(db_suffix, kind=c_size_t), &
                                                 self%configoptions_ptr)
end function create_configoptions_from_environment

function get_integer_option(self, option_name, result) result(code)
  class(configoptions_type), intent(in) :: self
  character(len=*), intent(in) :: option_name
  integer(kind=c_int64_t), intent(inout) :: result !< Receives the value
  integer(kind=enum_kind) :: code

  integer(kind=c_int64_t) :: value
  code = c_get_integer_option(self%configoptions_ptr, option_name, &
                              len_trim(option_name, kind=c_size_t), value)
  if (code == SRNoError) result = value
end function get_integer_option

function get_string_option(self, option_name, result) result(code)
  class(configoptions_type), intent(in) :: self
  character(len=*), intent(in) :: option_name
  character(len=:), allocatable, intent(out) :: result !< Receives the value
  integer(kind=enum_kind) :: code

  type(c_ptr) :: value
  integer(kind=c_size_t) :: value_length
  code = c_get_string_option(self%configoptions_ptr, option_name, &
                             len_trim(option_name, kind=c_size_t), value, value_length)
  if (code == SRNoError) result = c_string_to_fortran(value, value_length)
end function get_string_option

function is_configured(self, option_name, result) result(code)
  class(configoptions_type), intent(in) :: self
  character(len=*), intent(in) :: option_name
  logical, intent(inout) :: result !< Receives whether the option is set
  integer(kind=enum_kind) :: code

  logical(kind=c_bool) :: configured
  code = c_is_configured(self%configoptions_ptr, option_name, &
                         len_trim(option_name, kind=c_size_t), configured)
  if (code == SRNoError) result = configured
end function is_configured

function override_integer_option(self, option_name, value) result(code)
  class(configoptions_type), intent(in) :: self
  character(len=*), intent(in) :: option_name
  integer(kind=c_int64_t), intent(in) :: value
  integer(kind=enum_kind) :: code

  code = c_override_integer_option(self%configoptions_ptr, option_name, &
                                   len_trim(option_name, kind=c_size_t), value)
end function override_integer_option

function override_string_option(self, option_name, value) result(code)
  class(configoptions_type), intent(in) :: self
  character(len=*), intent(in) :: option_name, value
  integer(kind=enum_kind) :: code

  code = c_override_string_option(self%configoptions_ptr, option_name, &
                                  len_trim(option_name, kind=c_size_t), value, &
                                  len_trim(value, kind=c_size_t))
end function override_string_option

function destructor(self) result(code)
  class(configoptions_type), intent(inout) :: self
  integer(kind=enum_kind) :: code

  code = c_deallocate_configoptions(self%configoptions_ptr)
  self%configoptions_ptr = c_null_ptr
end function destructor

end module smartredis_configoptions
