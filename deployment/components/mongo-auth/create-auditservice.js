// Run by the mongo image's entrypoint (mongosh, as the administrator) on the first start with an
// empty data volume: the auditservice's user, allowed to read and write its database and nothing
// else. Its password comes from the Secret mongo-users through the container's environment.
const password = process.env.MONGO_AUDITSERVICE_PASSWORD;
if (!password) throw new Error('MONGO_AUDITSERVICE_PASSWORD is not set');
db.getSiblingDB('audit').createUser({
  user: 'auditservice',
  pwd: password,
  roles: [{ role: 'readWrite', db: 'audit' }],
});
