import Discovery

// Discovery's balancer is the production target selector.
extension ServiceBalancer: TargetSelector {}
