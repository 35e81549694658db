import RedisAdapter

/// The two Lua scripts of the worker. Each runs atomically in Redis.
enum EventScripts {
    /// Takes the next batch: tops the processing list up to `ARGV[1]` messages from the queue
    /// (LMOVE, so a message is always in exactly one of the two lists), then returns the oldest
    /// `ARGV[1]` messages of the processing list, oldest first. Whatever a crash left in the
    /// processing list therefore comes back first.
    ///
    /// Messages that are not valid UTF-8 cannot round-trip through Swift strings (the apply script
    /// finds a message by its exact bytes), so they are dead-lettered here, hex-encoded.
    ///
    /// KEYS: queue, processing, dead. ARGV: batch size, time (ms).
    static let takeBatch = RedisScript(#"""
        local function is_utf8(s)
          local i, n = 1, #s
          while i <= n do
            local c = string.byte(s, i)
            local extra
            if c < 0x80 then extra = 0
            elseif c >= 0xC2 and c <= 0xDF then extra = 1
            elseif c >= 0xE0 and c <= 0xEF then extra = 2
            elseif c >= 0xF0 and c <= 0xF4 then extra = 3
            else return false end
            for j = i + 1, i + extra do
              local d = string.byte(s, j)
              if not d or d < 0x80 or d > 0xBF then return false end
            end
            local d = string.byte(s, i + 1)
            if (c == 0xE0 and d < 0xA0) or (c == 0xED and d > 0x9F)
              or (c == 0xF0 and d < 0x90) or (c == 0xF4 and d > 0x8F) then return false end
            i = i + extra + 1
          end
          return true
        end

        local size = tonumber(ARGV[1])
        for _ = redis.call('LLEN', KEYS[2]) + 1, size do
          if not redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') then break end
        end
        local newest_first = redis.call('LRANGE', KEYS[2], -size, -1)
        local batch = {}
        for i = #newest_first, 1, -1 do
          local message = newest_first[i]
          if string.find(message, '[\128-\255]') and not is_utf8(message) then
            local hex = string.gsub(message, '.', function(ch) return string.format('%02x', string.byte(ch)) end)
            redis.call('LPUSH', KEYS[3], cjson.encode({reason = 'not valid UTF-8', messageHex = hex,
              deadLetteredAt = tonumber(ARGV[2])}))
            redis.call('LREM', KEYS[2], -1, message)
          else
            batch[#batch + 1] = message
          end
        end
        return batch
        """#)

    /// Applies and acknowledges a batch in one step. Each message is acknowledged by removing it
    /// from the processing list (LREM from the tail, where the oldest are) and applied only if
    /// that removal happened: a batch that is sent twice (a reply lost to a broken connection) or
    /// a message another worker already applied is not counted again.
    ///
    /// KEYS: processing, counts, log, dead, then one return path per summary.
    /// ARGV: log capacity, summary TTL (s), then per message: op ("r", "s", "d"), the raw message,
    /// and the url (r), the KEYS index of the return path (s) or the dead-letter envelope (d).
    /// Returns {records, summaries, dead letters} applied.
    static let applyBatch = RedisScript(#"""
        local function summary(counts)
          local flat = redis.call('HGETALL', counts)
          local fields = {}
          for i = 1, #flat, 2 do
            -- cjson escapes '/' as '\/'; URLs read better without, and both are valid JSON.
            local key = string.gsub(cjson.encode(flat[i]), '\\/', '/')
            fields[#fields + 1] = key .. ':' .. flat[i + 1]
          end
          return '{' .. table.concat(fields, ',') .. '}'
        end

        local capacity, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
        local records, summaries, dead = 0, 0, 0
        for i = 3, #ARGV, 3 do
          local op, raw, param = ARGV[i], ARGV[i + 1], ARGV[i + 2]
          if redis.call('LREM', KEYS[1], -1, raw) == 1 then
            if op == 'r' then
              redis.call('HINCRBY', KEYS[2], param, 1)
              redis.call('LPUSH', KEYS[3], raw)
              records = records + 1
            elseif op == 's' then
              local path = KEYS[tonumber(param)]
              redis.call('LPUSH', path, summary(KEYS[2]))
              redis.call('EXPIRE', path, ttl)
              summaries = summaries + 1
            else
              redis.call('LPUSH', KEYS[4], param)
              dead = dead + 1
            end
          end
        end
        if records > 0 then redis.call('LTRIM', KEYS[3], 0, capacity - 1) end
        return {records, summaries, dead}
        """#)
}
