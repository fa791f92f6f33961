! Logging to SmartRedis's log (SR_LOG_FILE at SR_LOG_LEVEL), as SmartRedis 0.6's smartredis_logger
! module offers it: log_data, log_warning and log_error against a client, a dataset, a log context
! or a plain name. A line is written when level is at or below SR_LOG_LEVEL.
module smartredis_logger

use iso_c_binding, only : c_size_t
use smartflow_c_api, only : c_log_data, c_log_warning, c_log_error, c_log_data_string, &
                            c_log_warning_string, c_log_error_string
use fortran_c_interop, only : c_len
use smartredis_client, only : client_type
use smartredis_dataset, only : dataset_type
use smartredis_logcontext, only : logcontext_type

implicit none; private

#include "enum_fortran.inc"

public :: log_data, log_warning, log_error

interface log_data
  module procedure log_data_client, log_data_dataset, log_data_logcontext, log_data_string
end interface log_data

interface log_warning
  module procedure log_warning_client, log_warning_dataset, log_warning_logcontext, &
                   log_warning_string
end interface log_warning

interface log_error
  module procedure log_error_client, log_error_dataset, log_error_logcontext, log_error_string
end interface log_error

contains

subroutine log_data_client(context, level, data)
  type(client_type), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_data(context%get_c_pointer(), level, data, c_len(data))
end subroutine log_data_client

subroutine log_data_dataset(context, level, data)
  type(dataset_type), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_data(context%get_c_pointer(), level, data, c_len(data))
end subroutine log_data_dataset

subroutine log_data_logcontext(context, level, data)
  type(logcontext_type), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_data(context%get_c_pointer(), level, data, c_len(data))
end subroutine log_data_logcontext

subroutine log_data_string(context, level, data)
  character(len=*), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_data_string(context, c_len(context), level, data, c_len(data))
end subroutine log_data_string

subroutine log_warning_client(context, level, data)
  type(client_type), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_warning(context%get_c_pointer(), level, data, c_len(data))
end subroutine log_warning_client

subroutine log_warning_dataset(context, level, data)
  type(dataset_type), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_warning(context%get_c_pointer(), level, data, c_len(data))
end subroutine log_warning_dataset

subroutine log_warning_logcontext(context, level, data)
  type(logcontext_type), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_warning(context%get_c_pointer(), level, data, c_len(data))
end subroutine log_warning_logcontext

subroutine log_warning_string(context, level, data)
  character(len=*), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_warning_string(context, c_len(context), level, data, c_len(data))
end subroutine log_warning_string

subroutine log_error_client(context, level, data)
  type(client_type), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_error(context%get_c_pointer(), level, data, c_len(data))
end subroutine log_error_client

subroutine log_error_dataset(context, level, data)
  type(dataset_type), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_error(context%get_c_pointer(), level, data, c_len(data))
end subroutine log_error_dataset

subroutine log_error_logcontext(context, level, data)
  type(logcontext_type), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_error(context%get_c_pointer(), level, data, c_len(data))
end subroutine log_error_logcontext

subroutine log_error_string(context, level, data)
  character(len=*), intent(in) :: context
  integer(kind=enum_kind), intent(in) :: level
  character(len=*), intent(in) :: data
  call c_log_error_string(context, c_len(context), level, data, c_len(data))
end subroutine log_error_string

end module smartredis_logger
