SELECT @@in_transaction
