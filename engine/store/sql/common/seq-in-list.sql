-- The condition "seq is one of the bound list".
seq IN {{sequence-list}}
