import Discovery

/// The credentials a service presents to its stores, read with the rest of its configuration
/// (`REDIS_USERNAME`/`REDIS_PASSWORD`, `MONGO_USERNAME`/`MONGO_PASSWORD`): a half-given pair
/// stops the start with exit 78 before anything connects. Unset pairs mean a store without
/// authentication (the tests' servers, nx-27017 in the local environment).
public struct DependencyCredentials: Sendable, Equatable {
    public var redis: Credentials?
    public var mongo: Credentials?

    public init(redis: Credentials? = nil, mongo: Credentials? = nil) {
        self.redis = redis
        self.mongo = mongo
    }

    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        self.init(redis: try environment.credentials("REDIS"), mongo: try environment.credentials("MONGO"))
    }
}
