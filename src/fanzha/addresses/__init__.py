"""The standard address list (标准地址): 小区/村/路段/门牌 mapped to a leaf community."""
