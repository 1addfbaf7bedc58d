"""Reports: official documents (通报) after GB/T 9704, their register (发文登记), the case map and the wall screen."""
