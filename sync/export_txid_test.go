package calsync

// LegacyTransactionID is the transactionId earlier versions set.
var LegacyTransactionID = legacyTransactionID
