import ServiceRuntime

/// Every page request is recorded as a page view of its route (`PageEventKey`): the counts are
/// keyed by the webapp's routes, never by the Host or anything else a client sends. Recording
/// only appends to the recorder's buffer, so it never slows or fails the page. A traced page's
/// event carries its span, so the eventservice's apply joins the page's trace.
enum PageViews {
    static func record(_ request: Request, to recorder: EventRecorder) {
        recorder.record(path: request.path, traceparent: request.traceparent)
    }
}
