! The C library's functions as Fortran sees them (bind(c) interfaces over c_client.h, c_dataset.h,
! c_configoptions.h, c_logcontext.h, c_logger.h and sr_error.h). One module, so that each C
! signature is written once; the smartredis_* modules use the names they need.
!
! Conventions: every Fortran name is the C name with a c_ prefix (the modules' own procedures
! carry the plain names); strings go as a character buffer and a length, never NUL-terminated
! except where the C side reads a C string (SRSetLastErrorMessage); void** out-arguments are
! type(c_ptr) passed by reference; SRError and the other enums are integer(c_int).
module smartflow_c_api

use iso_c_binding, only : c_ptr, c_char, c_size_t, c_int, c_bool, c_int64_t

implicit none; private

! --- clients -------------------------------------------------------------------------------
public :: c_simple_create_client, c_create_client, c_deprecated_create_client, c_delete_client
public :: c_client_to_string
public :: c_put_tensor, c_unpack_tensor, c_rename_tensor, c_delete_tensor, c_copy_tensor
public :: c_key_exists, c_tensor_exists, c_model_exists, c_dataset_exists
public :: c_poll_key, c_poll_tensor, c_poll_model, c_poll_dataset
public :: c_set_model_from_file, c_set_model_from_file_multigpu, c_set_model, c_set_model_multigpu
public :: c_get_model, c_run_model, c_run_model_multigpu, c_delete_model, c_delete_model_multigpu
public :: c_set_script_from_file, c_set_script_from_file_multigpu, c_set_script
public :: c_set_script_multigpu, c_get_script, c_run_script, c_run_script_multigpu
public :: c_delete_script, c_delete_script_multigpu
public :: c_put_dataset, c_get_dataset, c_rename_dataset, c_copy_dataset, c_delete_dataset
public :: c_set_data_source, c_use_tensor_ensemble_prefix, c_use_dataset_ensemble_prefix
public :: c_use_model_ensemble_prefix, c_use_list_ensemble_prefix
public :: c_append_to_list, c_delete_list, c_copy_list, c_rename_list, c_get_list_length
public :: c_poll_list_length, c_poll_list_length_gte, c_poll_list_length_lte
public :: c_get_datasets_from_list, c_get_dataset_list_range
! --- datasets ------------------------------------------------------------------------------
public :: c_create_dataset, c_deallocate_dataset, c_dataset_to_string
public :: c_add_tensor, c_unpack_dataset_tensor, c_add_meta_scalar, c_add_meta_string
public :: c_get_meta_scalars, c_get_meta_strings, c_get_tensor_names, c_get_metadata_field_names
public :: c_get_tensor_type, c_get_tensor_dims, c_get_metadata_field_type
! --- configuration options, log contexts, logging ------------------------------------------
public :: c_create_configoptions_from_environment, c_deallocate_configoptions
public :: c_get_integer_option, c_get_string_option, c_is_configured
public :: c_override_integer_option, c_override_string_option
public :: c_create_logcontext, c_deallocate_logcontext
public :: c_log_data, c_log_warning, c_log_error
public :: c_log_data_string, c_log_warning_string, c_log_error_string
! --- errors and the C runtime --------------------------------------------------------------
public :: c_get_last_error, c_get_last_error_location, c_set_last_error_message
public :: c_strlen, c_free

interface

! ===== clients =============================================================================

integer(c_int) function c_simple_create_client(logger_name, logger_name_length, new_client) &
    bind(c, name="SimpleCreateClient")
  import :: c_ptr, c_char, c_size_t, c_int
  character(kind=c_char), intent(in) :: logger_name(*)
  integer(c_size_t), value :: logger_name_length
  type(c_ptr), intent(out) :: new_client
end function

integer(c_int) function c_create_client(config_options, logger_name, logger_name_length, new_client) &
    bind(c, name="CreateClient")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: config_options
  character(kind=c_char), intent(in) :: logger_name(*)
  integer(c_size_t), value :: logger_name_length
  type(c_ptr), intent(out) :: new_client
end function

integer(c_int) function c_deprecated_create_client(cluster, logger_name, logger_name_length, &
    new_client) bind(c, name="SmartRedisCClient")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  logical(c_bool), value :: cluster
  character(kind=c_char), intent(in) :: logger_name(*)
  integer(c_size_t), value :: logger_name_length
  type(c_ptr), intent(out) :: new_client
end function

integer(c_int) function c_delete_client(client) bind(c, name="DeleteCClient")
  import :: c_ptr, c_int
  type(c_ptr), intent(inout) :: client
end function

type(c_ptr) function c_client_to_string(client) bind(c, name="client_to_string")
  import :: c_ptr
  type(c_ptr), value :: client
end function

integer(c_int) function c_put_tensor(client, name, name_length, data, dims, n_dims, ttype, layout) &
    bind(c, name="put_tensor")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), value :: data
  integer(c_size_t), intent(in) :: dims(*)
  integer(c_size_t), value :: n_dims
  integer(c_int), value :: ttype, layout
end function

integer(c_int) function c_unpack_tensor(client, name, name_length, result, dims, n_dims, ttype, &
    layout) bind(c, name="unpack_tensor")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), value :: result
  integer(c_size_t), intent(in) :: dims(*)
  integer(c_size_t), value :: n_dims
  integer(c_int), value :: ttype, layout
end function

integer(c_int) function c_rename_tensor(client, old_name, old_name_length, new_name, &
    new_name_length) bind(c, name="rename_tensor")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: old_name(*), new_name(*)
  integer(c_size_t), value :: old_name_length, new_name_length
end function

integer(c_int) function c_delete_tensor(client, name, name_length) bind(c, name="delete_tensor")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
end function

integer(c_int) function c_copy_tensor(client, src_name, src_name_length, dest_name, &
    dest_name_length) bind(c, name="copy_tensor")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: src_name(*), dest_name(*)
  integer(c_size_t), value :: src_name_length, dest_name_length
end function

integer(c_int) function c_key_exists(client, key, key_length, exists) bind(c, name="key_exists")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: key(*)
  integer(c_size_t), value :: key_length
  logical(c_bool), intent(out) :: exists
end function

integer(c_int) function c_tensor_exists(client, name, name_length, exists) &
    bind(c, name="tensor_exists")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  logical(c_bool), intent(out) :: exists
end function

integer(c_int) function c_model_exists(client, name, name_length, exists) &
    bind(c, name="model_exists")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  logical(c_bool), intent(out) :: exists
end function

integer(c_int) function c_dataset_exists(client, name, name_length, exists) &
    bind(c, name="dataset_exists")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  logical(c_bool), intent(out) :: exists
end function

integer(c_int) function c_poll_key(client, key, key_length, poll_frequency_ms, num_tries, exists) &
    bind(c, name="poll_key")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: key(*)
  integer(c_size_t), value :: key_length
  integer(c_int), value :: poll_frequency_ms, num_tries
  logical(c_bool), intent(out) :: exists
end function

integer(c_int) function c_poll_tensor(client, name, name_length, poll_frequency_ms, num_tries, &
    exists) bind(c, name="poll_tensor")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_int), value :: poll_frequency_ms, num_tries
  logical(c_bool), intent(out) :: exists
end function

integer(c_int) function c_poll_model(client, name, name_length, poll_frequency_ms, num_tries, &
    exists) bind(c, name="poll_model")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_int), value :: poll_frequency_ms, num_tries
  logical(c_bool), intent(out) :: exists
end function

integer(c_int) function c_poll_dataset(client, name, name_length, poll_frequency_ms, num_tries, &
    exists) bind(c, name="poll_dataset")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_int), value :: poll_frequency_ms, num_tries
  logical(c_bool), intent(out) :: exists
end function

integer(c_int) function c_set_model_from_file(client, name, name_length, model_file, &
    model_file_length, backend, backend_length, device, device_length, batch_size, &
    min_batch_size, min_batch_timeout, tag, tag_length, inputs, input_lengths, n_inputs, &
    outputs, output_lengths, n_outputs) bind(c, name="set_model_from_file")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*), model_file(*), backend(*), device(*), tag(*)
  integer(c_size_t), value :: name_length, model_file_length, backend_length, device_length
  integer(c_int), value :: batch_size, min_batch_size, min_batch_timeout
  integer(c_size_t), value :: tag_length
  type(c_ptr), value :: inputs, input_lengths, outputs, output_lengths
  integer(c_size_t), value :: n_inputs, n_outputs
end function

integer(c_int) function c_set_model_from_file_multigpu(client, name, name_length, model_file, &
    model_file_length, backend, backend_length, first_gpu, num_gpus, batch_size, &
    min_batch_size, min_batch_timeout, tag, tag_length, inputs, input_lengths, n_inputs, &
    outputs, output_lengths, n_outputs) bind(c, name="set_model_from_file_multigpu")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*), model_file(*), backend(*), tag(*)
  integer(c_size_t), value :: name_length, model_file_length, backend_length
  integer(c_int), value :: first_gpu, num_gpus, batch_size, min_batch_size, min_batch_timeout
  integer(c_size_t), value :: tag_length
  type(c_ptr), value :: inputs, input_lengths, outputs, output_lengths
  integer(c_size_t), value :: n_inputs, n_outputs
end function

integer(c_int) function c_set_model(client, name, name_length, model, model_length, backend, &
    backend_length, device, device_length, batch_size, min_batch_size, min_batch_timeout, tag, &
    tag_length, inputs, input_lengths, n_inputs, outputs, output_lengths, n_outputs) &
    bind(c, name="set_model")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*), model(*), backend(*), device(*), tag(*)
  integer(c_size_t), value :: name_length, model_length, backend_length, device_length
  integer(c_int), value :: batch_size, min_batch_size, min_batch_timeout
  integer(c_size_t), value :: tag_length
  type(c_ptr), value :: inputs, input_lengths, outputs, output_lengths
  integer(c_size_t), value :: n_inputs, n_outputs
end function

integer(c_int) function c_set_model_multigpu(client, name, name_length, model, model_length, &
    backend, backend_length, first_gpu, num_gpus, batch_size, min_batch_size, &
    min_batch_timeout, tag, tag_length, inputs, input_lengths, n_inputs, outputs, &
    output_lengths, n_outputs) bind(c, name="set_model_multigpu")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*), model(*), backend(*), tag(*)
  integer(c_size_t), value :: name_length, model_length, backend_length
  integer(c_int), value :: first_gpu, num_gpus, batch_size, min_batch_size, min_batch_timeout
  integer(c_size_t), value :: tag_length
  type(c_ptr), value :: inputs, input_lengths, outputs, output_lengths
  integer(c_size_t), value :: n_inputs, n_outputs
end function

integer(c_int) function c_get_model(client, name, name_length, model_length, model) &
    bind(c, name="get_model")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_size_t), intent(out) :: model_length
  type(c_ptr), intent(out) :: model
end function

integer(c_int) function c_run_model(client, name, name_length, inputs, input_lengths, n_inputs, &
    outputs, output_lengths, n_outputs) bind(c, name="run_model")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), value :: inputs, input_lengths, outputs, output_lengths
  integer(c_size_t), value :: n_inputs, n_outputs
end function

integer(c_int) function c_run_model_multigpu(client, name, name_length, inputs, input_lengths, &
    n_inputs, outputs, output_lengths, n_outputs, offset, first_gpu, num_gpus) &
    bind(c, name="run_model_multigpu")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), value :: inputs, input_lengths, outputs, output_lengths
  integer(c_size_t), value :: n_inputs, n_outputs
  integer(c_int), value :: offset, first_gpu, num_gpus
end function

integer(c_int) function c_delete_model(client, name, name_length) bind(c, name="delete_model")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
end function

integer(c_int) function c_delete_model_multigpu(client, name, name_length, first_gpu, num_gpus) &
    bind(c, name="delete_model_multigpu")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_int), value :: first_gpu, num_gpus
end function

integer(c_int) function c_set_script_from_file(client, name, name_length, device, device_length, &
    script_file, script_file_length) bind(c, name="set_script_from_file")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*), device(*), script_file(*)
  integer(c_size_t), value :: name_length, device_length, script_file_length
end function

integer(c_int) function c_set_script_from_file_multigpu(client, name, name_length, script_file, &
    script_file_length, first_gpu, num_gpus) bind(c, name="set_script_from_file_multigpu")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*), script_file(*)
  integer(c_size_t), value :: name_length, script_file_length
  integer(c_int), value :: first_gpu, num_gpus
end function

integer(c_int) function c_set_script(client, name, name_length, device, device_length, script, &
    script_length) bind(c, name="set_script")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*), device(*), script(*)
  integer(c_size_t), value :: name_length, device_length, script_length
end function

integer(c_int) function c_set_script_multigpu(client, name, name_length, script, script_length, &
    first_gpu, num_gpus) bind(c, name="set_script_multigpu")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*), script(*)
  integer(c_size_t), value :: name_length, script_length
  integer(c_int), value :: first_gpu, num_gpus
end function

integer(c_int) function c_get_script(client, name, name_length, script, script_length) &
    bind(c, name="get_script")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), intent(out) :: script
  integer(c_size_t), intent(out) :: script_length
end function

integer(c_int) function c_run_script(client, name, name_length, func, func_length, inputs, &
    input_lengths, n_inputs, outputs, output_lengths, n_outputs) bind(c, name="run_script")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*), func(*)
  integer(c_size_t), value :: name_length, func_length
  type(c_ptr), value :: inputs, input_lengths, outputs, output_lengths
  integer(c_size_t), value :: n_inputs, n_outputs
end function

integer(c_int) function c_run_script_multigpu(client, name, name_length, func, func_length, &
    inputs, input_lengths, n_inputs, outputs, output_lengths, n_outputs, offset, first_gpu, &
    num_gpus) bind(c, name="run_script_multigpu")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*), func(*)
  integer(c_size_t), value :: name_length, func_length
  type(c_ptr), value :: inputs, input_lengths, outputs, output_lengths
  integer(c_size_t), value :: n_inputs, n_outputs
  integer(c_int), value :: offset, first_gpu, num_gpus
end function

integer(c_int) function c_delete_script(client, name, name_length) bind(c, name="delete_script")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
end function

integer(c_int) function c_delete_script_multigpu(client, name, name_length, first_gpu, num_gpus) &
    bind(c, name="delete_script_multigpu")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_int), value :: first_gpu, num_gpus
end function

integer(c_int) function c_put_dataset(client, dataset) bind(c, name="put_dataset")
  import :: c_ptr, c_int
  type(c_ptr), value :: client, dataset
end function

integer(c_int) function c_get_dataset(client, name, name_length, dataset) &
    bind(c, name="get_dataset")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), intent(out) :: dataset
end function

integer(c_int) function c_rename_dataset(client, old_name, old_name_length, new_name, &
    new_name_length) bind(c, name="rename_dataset")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: old_name(*), new_name(*)
  integer(c_size_t), value :: old_name_length, new_name_length
end function

integer(c_int) function c_copy_dataset(client, src_name, src_name_length, dest_name, &
    dest_name_length) bind(c, name="copy_dataset")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: src_name(*), dest_name(*)
  integer(c_size_t), value :: src_name_length, dest_name_length
end function

integer(c_int) function c_delete_dataset(client, name, name_length) bind(c, name="delete_dataset")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
end function

integer(c_int) function c_set_data_source(client, source_id, source_id_length) &
    bind(c, name="set_data_source")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: source_id(*)
  integer(c_size_t), value :: source_id_length
end function

integer(c_int) function c_use_tensor_ensemble_prefix(client, use_prefix) &
    bind(c, name="use_tensor_ensemble_prefix")
  import :: c_ptr, c_int, c_bool
  type(c_ptr), value :: client
  logical(c_bool), value :: use_prefix
end function

integer(c_int) function c_use_dataset_ensemble_prefix(client, use_prefix) &
    bind(c, name="use_dataset_ensemble_prefix")
  import :: c_ptr, c_int, c_bool
  type(c_ptr), value :: client
  logical(c_bool), value :: use_prefix
end function

integer(c_int) function c_use_model_ensemble_prefix(client, use_prefix) &
    bind(c, name="use_model_ensemble_prefix")
  import :: c_ptr, c_int, c_bool
  type(c_ptr), value :: client
  logical(c_bool), value :: use_prefix
end function

integer(c_int) function c_use_list_ensemble_prefix(client, use_prefix) &
    bind(c, name="use_list_ensemble_prefix")
  import :: c_ptr, c_int, c_bool
  type(c_ptr), value :: client
  logical(c_bool), value :: use_prefix
end function

integer(c_int) function c_append_to_list(client, list_name, list_name_length, dataset) &
    bind(c, name="append_to_list")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: list_name(*)
  integer(c_size_t), value :: list_name_length
  type(c_ptr), value :: dataset
end function

integer(c_int) function c_delete_list(client, list_name, list_name_length) &
    bind(c, name="delete_list")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: list_name(*)
  integer(c_size_t), value :: list_name_length
end function

integer(c_int) function c_copy_list(client, src_name, src_name_length, dest_name, &
    dest_name_length) bind(c, name="copy_list")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: src_name(*), dest_name(*)
  integer(c_size_t), value :: src_name_length, dest_name_length
end function

integer(c_int) function c_rename_list(client, src_name, src_name_length, dest_name, &
    dest_name_length) bind(c, name="rename_list")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: src_name(*), dest_name(*)
  integer(c_size_t), value :: src_name_length, dest_name_length
end function

integer(c_int) function c_get_list_length(client, list_name, list_name_length, result_length) &
    bind(c, name="get_list_length")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: list_name(*)
  integer(c_size_t), value :: list_name_length
  integer(c_int), intent(out) :: result_length
end function

integer(c_int) function c_poll_list_length(client, name, name_length, list_length, &
    poll_frequency_ms, num_tries, poll_result) bind(c, name="poll_list_length")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_int), value :: list_length, poll_frequency_ms, num_tries
  logical(c_bool), intent(out) :: poll_result
end function

integer(c_int) function c_poll_list_length_gte(client, name, name_length, list_length, &
    poll_frequency_ms, num_tries, poll_result) bind(c, name="poll_list_length_gte")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_int), value :: list_length, poll_frequency_ms, num_tries
  logical(c_bool), intent(out) :: poll_result
end function

integer(c_int) function c_poll_list_length_lte(client, name, name_length, list_length, &
    poll_frequency_ms, num_tries, poll_result) bind(c, name="poll_list_length_lte")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_int), value :: list_length, poll_frequency_ms, num_tries
  logical(c_bool), intent(out) :: poll_result
end function

! *datasets: a malloc'ed array of new datasets (each freed with DeallocateDataSet, the array
! with free()).
integer(c_int) function c_get_datasets_from_list(client, list_name, list_name_length, datasets, &
    num_datasets) bind(c, name="get_datasets_from_list")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: list_name(*)
  integer(c_size_t), value :: list_name_length
  type(c_ptr), intent(out) :: datasets
  integer(c_size_t), intent(out) :: num_datasets
end function

integer(c_int) function c_get_dataset_list_range(client, list_name, list_name_length, &
    start_index, end_index, datasets, num_datasets) bind(c, name="get_dataset_list_range")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: client
  character(kind=c_char), intent(in) :: list_name(*)
  integer(c_size_t), value :: list_name_length
  integer(c_int), value :: start_index, end_index
  type(c_ptr), intent(out) :: datasets
  integer(c_size_t), intent(out) :: num_datasets
end function

! ===== datasets ============================================================================

integer(c_int) function c_create_dataset(name, name_length, new_dataset) bind(c, name="CDataSet")
  import :: c_ptr, c_char, c_size_t, c_int
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), intent(out) :: new_dataset
end function

integer(c_int) function c_deallocate_dataset(dataset) bind(c, name="DeallocateDataSet")
  import :: c_ptr, c_int
  type(c_ptr), intent(inout) :: dataset
end function

type(c_ptr) function c_dataset_to_string(dataset) bind(c, name="dataset_to_string")
  import :: c_ptr
  type(c_ptr), value :: dataset
end function

integer(c_int) function c_add_tensor(dataset, name, name_length, data, dims, n_dims, ttype, &
    layout) bind(c, name="add_tensor")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: dataset
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), value :: data
  integer(c_size_t), intent(in) :: dims(*)
  integer(c_size_t), value :: n_dims
  integer(c_int), value :: ttype, layout
end function

integer(c_int) function c_unpack_dataset_tensor(dataset, name, name_length, data, dims, n_dims, &
    ttype, layout) bind(c, name="unpack_dataset_tensor")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: dataset
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), value :: data
  integer(c_size_t), intent(in) :: dims(*)
  integer(c_size_t), value :: n_dims
  integer(c_int), value :: ttype, layout
end function

integer(c_int) function c_add_meta_scalar(dataset, name, name_length, data, mtype) &
    bind(c, name="add_meta_scalar")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: dataset
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), value :: data
  integer(c_int), value :: mtype
end function

integer(c_int) function c_add_meta_string(dataset, name, name_length, data, data_length) &
    bind(c, name="add_meta_string")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: dataset
  character(kind=c_char), intent(in) :: name(*), data(*)
  integer(c_size_t), value :: name_length, data_length
end function

! *scalar_data stays owned by the dataset.
integer(c_int) function c_get_meta_scalars(dataset, name, name_length, length, mtype, &
    scalar_data) bind(c, name="get_meta_scalars")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: dataset
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_size_t), intent(out) :: length
  integer(c_int), intent(out) :: mtype
  type(c_ptr), intent(out) :: scalar_data
end function

integer(c_int) function c_get_meta_strings(dataset, name, name_length, data, n_strings, lengths) &
    bind(c, name="get_meta_strings")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: dataset
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), intent(out) :: data
  integer(c_size_t), intent(out) :: n_strings
  type(c_ptr), intent(out) :: lengths
end function

integer(c_int) function c_get_tensor_names(dataset, data, n_strings, lengths) &
    bind(c, name="get_tensor_names")
  import :: c_ptr, c_size_t, c_int
  type(c_ptr), value :: dataset
  type(c_ptr), intent(out) :: data
  integer(c_size_t), intent(out) :: n_strings
  type(c_ptr), intent(out) :: lengths
end function

integer(c_int) function c_get_metadata_field_names(dataset, data, n_strings, lengths) &
    bind(c, name="get_metadata_field_names")
  import :: c_ptr, c_size_t, c_int
  type(c_ptr), value :: dataset
  type(c_ptr), intent(out) :: data
  integer(c_size_t), intent(out) :: n_strings
  type(c_ptr), intent(out) :: lengths
end function

integer(c_int) function c_get_tensor_type(dataset, name, name_length, ttype) &
    bind(c, name="get_tensor_type")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: dataset
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_int), intent(out) :: ttype
end function

! dims: the address of the caller's buffer of ndims slots; ndims comes back as the rank.
integer(c_int) function c_get_tensor_dims(dataset, name, name_length, dims, ndims) &
    bind(c, name="get_tensor_dims")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: dataset
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  type(c_ptr), intent(inout) :: dims
  integer(c_size_t), intent(inout) :: ndims
end function

integer(c_int) function c_get_metadata_field_type(dataset, name, name_length, mtype) &
    bind(c, name="get_metadata_field_type")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: dataset
  character(kind=c_char), intent(in) :: name(*)
  integer(c_size_t), value :: name_length
  integer(c_int), intent(out) :: mtype
end function

! ===== configuration options ===============================================================

integer(c_int) function c_create_configoptions_from_environment(db_suffix, db_suffix_length, &
    new_configoptions) bind(c, name="create_configoptions_from_environment")
  import :: c_ptr, c_char, c_size_t, c_int
  character(kind=c_char), intent(in) :: db_suffix(*)
  integer(c_size_t), value :: db_suffix_length
  type(c_ptr), intent(out) :: new_configoptions
end function

integer(c_int) function c_deallocate_configoptions(configoptions) &
    bind(c, name="DeallocateConfigOptions")
  import :: c_ptr, c_int
  type(c_ptr), intent(inout) :: configoptions
end function

integer(c_int) function c_get_integer_option(cfgopts, option_name, option_name_length, result) &
    bind(c, name="get_integer_option")
  import :: c_ptr, c_char, c_size_t, c_int, c_int64_t
  type(c_ptr), value :: cfgopts
  character(kind=c_char), intent(in) :: option_name(*)
  integer(c_size_t), value :: option_name_length
  integer(c_int64_t), intent(out) :: result
end function

integer(c_int) function c_get_string_option(cfgopts, option_name, option_name_length, result, &
    result_length) bind(c, name="get_string_option")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: cfgopts
  character(kind=c_char), intent(in) :: option_name(*)
  integer(c_size_t), value :: option_name_length
  type(c_ptr), intent(out) :: result
  integer(c_size_t), intent(out) :: result_length
end function

integer(c_int) function c_is_configured(cfgopts, option_name, option_name_length, result) &
    bind(c, name="is_configured")
  import :: c_ptr, c_char, c_size_t, c_int, c_bool
  type(c_ptr), value :: cfgopts
  character(kind=c_char), intent(in) :: option_name(*)
  integer(c_size_t), value :: option_name_length
  logical(c_bool), intent(out) :: result
end function

integer(c_int) function c_override_integer_option(cfgopts, option_name, option_name_length, &
    value) bind(c, name="override_integer_option")
  import :: c_ptr, c_char, c_size_t, c_int, c_int64_t
  type(c_ptr), value :: cfgopts
  character(kind=c_char), intent(in) :: option_name(*)
  integer(c_size_t), value :: option_name_length
  integer(c_int64_t), value :: value
end function

integer(c_int) function c_override_string_option(cfgopts, option_name, option_name_length, &
    value, value_length) bind(c, name="override_string_option")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: cfgopts
  character(kind=c_char), intent(in) :: option_name(*), value(*)
  integer(c_size_t), value :: option_name_length, value_length
end function

! ===== log contexts and logging ============================================================

integer(c_int) function c_create_logcontext(context, context_length, new_logcontext) &
    bind(c, name="SmartRedisCLogContext")
  import :: c_ptr, c_char, c_size_t, c_int
  character(kind=c_char), intent(in) :: context(*)
  integer(c_size_t), value :: context_length
  type(c_ptr), intent(out) :: new_logcontext
end function

integer(c_int) function c_deallocate_logcontext(logcontext) bind(c, name="DeallocateLogContext")
  import :: c_ptr, c_int
  type(c_ptr), intent(inout) :: logcontext
end function

subroutine c_log_data(context, level, data, data_length) bind(c, name="log_data_noexcept")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: context
  integer(c_int), value :: level
  character(kind=c_char), intent(in) :: data(*)
  integer(c_size_t), value :: data_length
end subroutine

subroutine c_log_warning(context, level, data, data_length) bind(c, name="log_warning_noexcept")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: context
  integer(c_int), value :: level
  character(kind=c_char), intent(in) :: data(*)
  integer(c_size_t), value :: data_length
end subroutine

subroutine c_log_error(context, level, data, data_length) bind(c, name="log_error_noexcept")
  import :: c_ptr, c_char, c_size_t, c_int
  type(c_ptr), value :: context
  integer(c_int), value :: level
  character(kind=c_char), intent(in) :: data(*)
  integer(c_size_t), value :: data_length
end subroutine

subroutine c_log_data_string(context, context_length, level, data, data_length) &
    bind(c, name="log_data_noexcept_string")
  import :: c_char, c_size_t, c_int
  character(kind=c_char), intent(in) :: context(*), data(*)
  integer(c_size_t), value :: context_length, data_length
  integer(c_int), value :: level
end subroutine

subroutine c_log_warning_string(context, context_length, level, data, data_length) &
    bind(c, name="log_warning_noexcept_string")
  import :: c_char, c_size_t, c_int
  character(kind=c_char), intent(in) :: context(*), data(*)
  integer(c_size_t), value :: context_length, data_length
  integer(c_int), value :: level
end subroutine

subroutine c_log_error_string(context, context_length, level, data, data_length) &
    bind(c, name="log_error_noexcept_string")
  import :: c_char, c_size_t, c_int
  character(kind=c_char), intent(in) :: context(*), data(*)
  integer(c_size_t), value :: context_length, data_length
  integer(c_int), value :: level
end subroutine

! ===== errors and the C runtime ============================================================

type(c_ptr) function c_get_last_error() bind(c, name="SRGetLastError")
  import :: c_ptr
end function

type(c_ptr) function c_get_last_error_location() bind(c, name="SRGetLastErrorLocation")
  import :: c_ptr
end function

! message and location are NUL-terminated C strings.
subroutine c_set_last_error_message(code, message, location) bind(c, name="SRSetLastErrorMessage")
  import :: c_char, c_int
  integer(c_int), value :: code
  character(kind=c_char), intent(in) :: message(*), location(*)
end subroutine

integer(c_size_t) function c_strlen(str) bind(c, name="strlen")
  import :: c_ptr, c_size_t
  type(c_ptr), value :: str
end function

subroutine c_free(ptr) bind(c, name="free")
  import :: c_ptr
  type(c_ptr), value :: ptr
end subroutine

end interface

end module smartflow_c_api
