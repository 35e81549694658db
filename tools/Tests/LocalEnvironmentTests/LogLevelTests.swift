import Testing

@testable import LocalEnvironment

/// Which lines of the servers' output reach the console: their warnings and errors only; and of the services', not the scrapes.
@Suite struct LogLevelTests {
    @Test(arguments: [
        // nx-27017 (Python logging): every command is an INFO line.
        ("2026-12-03 14:49:17,122 - nx_27017 - INFO - [13189] - Calling db.command with: {'ping': 1}", false),
        ("2026-12-03 14:49:17,122 - nx_27017 - WARNING - [13189] - slow query", true),
        ("2026-12-03 14:49:17,122 - nx_27017 - ERROR - [13189] - cannot open database", true),
        ("2026-12-03 14:49:17,122 - nx_27017 - INFO - [1] - error count is 0 (an INFO line saying error)", false),
        // redis-server: `*` notice, `#` warning.
        ("4242:M 03 Dec 2026 14:49:17.122 * Ready to accept connections tcp", false),
        ("4242:C 03 Dec 2026 14:49:17.122 # WARNING Memory overcommit must be enabled!", true),
        ("4242:M 03 Dec 2026 14:49:17.122 * Server initialized (no error)", false),
        // mongod's structured log.
        (#"{"t":{"$date":"2026-12-03T14:49:17.122+00:00"},"s":"I","c":"NETWORK","msg":"Connection ended"}"#, false),
        (#"{"t":{"$date":"2026-12-03T14:49:17.122+00:00"},"s":"W","c":"CONTROL","msg":"Access control is not enabled"}"#, true),
        // prometheus (logfmt): by its level, not by words such as "failed" in an info line.
        (#"ts=2026-12-06T22:25:39.124Z caller=main.go:551 level=info msg="Starting Prometheus Server" mode=server"#, false),
        (
            #"ts=2026-12-06T22:25:39.124Z caller=head.go:606 level=info component=tsdb msg="On-disk memory mappable chunks replay completed, 0 failed""#,
            false
        ),
        (#"ts=2026-12-06T22:25:39.124Z caller=scrape.go:1336 level=warn component="scrape manager" msg="Append error""#, true),
        (#"ts=2026-12-06T22:25:39.124Z caller=main.go:1014 level=error msg="Error loading config""#, true),
        // dnsmasq and anything else: by what it says.
        ("dnsmasq: started, version 2.89 cachesize 150", false),
        ("dnsmasq: failed to create listening socket for 127.0.0.1: Address already in use", true),
        ("Traceback (most recent call last):", true),
    ])
    func serversShowOnlyWarningsAndErrors(line: String, shown: Bool) {
        #expect(LogLevel.isNotable(line) == shown, "\(line)")
    }

    @Test(arguments: [
        (
            "ts=2026-12-06T22:58:09.637Z level=info service=adderservice msg=request method=GET ms=0.165 path=/metrics request_id=690608bb29a5a9213 status=200",
            true
        ),
        (
            "ts=2026-12-06T22:58:09.637Z level=info service=adderservice msg=request method=GET ms=0.165 path=/metrics request_id=690608bb29a5a9213 status=500",
            false
        ),
        (
            "ts=2026-12-06T22:58:09.637Z level=info service=adderservice msg=request method=GET ms=0.052 path=/add/2/3 request_id=690608bb29a5a9213 status=200",
            false
        ),
        (
            "ts=2026-12-06T22:58:09.637Z level=info service=webapp msg=request method=POST ms=0.052 path=/metrics request_id=690608bb29a5a9213 status=200",
            false
        ),
    ])
    func scrapesOfTheServicesStayOffTheConsole(line: String, hidden: Bool) {
        #expect(ComponentLog.isScrape(line) == hidden, "\(line)")
    }
}
