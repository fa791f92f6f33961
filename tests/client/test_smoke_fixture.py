import numpy as np


async def test_put_get_roundtrip(client):
    a = np.arange(6, dtype=np.int16).reshape(2, 3)
    await client.put_tensor("a", a)
    b = await client.get_tensor("a")
    np.testing.assert_array_equal(a, b)
