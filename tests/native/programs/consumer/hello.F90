! A user's smallest Fortran program: connect from the environment, put one tensor.
program hello
  use smartredis_client, only : client_type
  implicit none
#include "enum_fortran.inc"
  type(client_type) :: client
  integer :: rc
  integer(kind=4) :: values(3)

  values = 3
  rc = client%initialize("hello-f")
  if (rc /= SRNoError) error stop "initialize failed"
  rc = client%put_tensor("hello_f", values, shape(values))
  if (rc /= SRNoError) error stop "put_tensor failed"
  print '(a)', 'hello'
end program hello
