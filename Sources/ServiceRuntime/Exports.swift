// Every service names itself with the service table, so the runtime brings Discovery along.
@_exported import Discovery
