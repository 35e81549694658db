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
    /// Returns {messages dead-lettered here, {the batch}}.
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
        local batch, dead = {}, 0
        for i = #newest_first, 1, -1 do
          local message = newest_first[i]
          if string.find(message, '[\128-\255]') and not is_utf8(message) then
            local hex = string.gsub(message, '.', function(ch) return string.format('%02x', string.byte(ch)) end)
            redis.call('LPUSH', KEYS[3], cjson.encode({reason = 'not valid UTF-8', messageHex = hex,
              deadLetteredAt = tonumber(ARGV[2])}))
            redis.call('LREM', KEYS[2], -1, message)
            dead = dead + 1
          else
            batch[#batch + 1] = message
          end
        end
        return {dead, batch}
        """#)

    /// Applies and acknowledges a batch in one step. Each message is acknowledged by removing it
    /// from the processing list (LREM from the tail, where the oldest are) and applied only if
    /// that removal happened: a batch that is sent twice (a reply lost to a broken connection) or
    /// a message another worker already applied is not counted again.
    ///
    /// A record with an id is counted only the first time its id is seen: the batch's ids are
    /// looked up in the `seen` hash and its previous generation with one HMGET each, and the new
    /// ones added with one HSET: three calls per batch rather than two per event;
    /// when `seen` holds the window size it becomes the previous generation (the oldest one is
    /// dropped), so Redis keeps between one and two windows of ids.
    ///
    /// Nothing acknowledged is lost: the keys the batch needs are checked first (a wrong type
    /// fails the script before any acknowledgement, and the batch is retried), and what can
    /// still fail after an acknowledgement (a reply key that is not a list, a count that is not
    /// an integer) is caught and dead-lettered with Redis's error. Redis does not roll a script
    /// back, so a script must not fail halfway.
    ///
    /// KEYS: processing, counts, log, dead, seen, previous seen, then one return path per summary.
    /// ARGV: log capacity, summary TTL (s), dedupe window, time (ms), then per message: op
    /// ("r", "s", "d"), the raw message, the url (r), the KEYS index of the return path (s) or
    /// the dead-letter envelope (d), and the record's id ("" when none).
    /// Returns {records, summaries, dead letters, duplicates}.
    static let applyBatch = RedisScript(#"""
        for i, want in ipairs({'list', 'hash', 'list', 'list', 'hash', 'hash'}) do
          local kind = redis.call('TYPE', KEYS[i])['ok']
          if kind ~= 'none' and kind ~= want then
            return redis.error_reply('key ' .. KEYS[i] .. ' holds a ' .. kind .. ', not a ' .. want)
          end
        end

        local capacity, ttl, window, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local records, summaries, dead, duplicates = 0, 0, 0, 0

        local function message_of(err)
          if type(err) == 'table' and err.err then return err.err end
          return tostring(err)
        end

        local function dead_letter(reason, raw)
          redis.call('LPUSH', KEYS[4], cjson.encode({reason = reason, message = raw, deadLetteredAt = now}))
          dead = dead + 1
        end

        local function summary()
          local flat = redis.call('HGETALL', KEYS[2])
          local fields = {}
          for i = 1, #flat, 2 do
            -- cjson escapes '/' as '\/'; URLs read better without, and both are valid JSON.
            local key = string.gsub(cjson.encode(flat[i]), '\\/', '/')
            fields[#fields + 1] = key .. ':' .. flat[i + 1]
          end
          return '{' .. table.concat(fields, ',') .. '}'
        end

        local function reply(path)
          local kind = redis.call('TYPE', path)['ok']
          if kind ~= 'none' and kind ~= 'list' then error({err = 'returnPath holds a ' .. kind .. ', not a list'}) end
          redis.call('LPUSH', path, summary())
          redis.call('EXPIRE', path, ttl)
        end

        -- Acknowledge first (LREM), then look every acknowledged record's id up in one go.
        local acked, ids = {}, {}
        for i = 5, #ARGV, 4 do
          if redis.call('LREM', KEYS[1], -1, ARGV[i + 1]) == 1 then
            acked[#acked + 1] = i
            if ARGV[i] == 'r' and ARGV[i + 3] ~= '' then ids[#ids + 1] = ARGV[i + 3] end
          end
        end
        local known, fresh = {}, {}
        for first = 1, #ids, 1000 do
          local chunk = {unpack(ids, first, math.min(first + 999, #ids))}
          local current = redis.call('HMGET', KEYS[5], unpack(chunk))
          local previous = redis.call('HMGET', KEYS[6], unpack(chunk))
          for j, id in ipairs(chunk) do
            if current[j] or previous[j] then known[id] = true end
          end
        end
        local function first_time(id)
          if id == '' then return true end
          if known[id] then return false end
          known[id] = true
          fresh[#fresh + 1] = id
          fresh[#fresh + 1] = '1'
          return true
        end

        -- Counts are added per url (one HINCRBY per url, not per event) before a summary reads
        -- them and at the end.
        local urls, per_url, logged = {}, {}, {}
        local function flush()
          for _, url in ipairs(urls) do
            local raws = per_url[url]
            local ok, err = pcall(redis.call, 'HINCRBY', KEYS[2], url, #raws)
            if ok then
              records = records + #raws
              for _, raw in ipairs(raws) do logged[#logged + 1] = raw end
            else
              for _, raw in ipairs(raws) do dead_letter(message_of(err), raw) end
            end
          end
          urls, per_url = {}, {}
        end

        for _, i in ipairs(acked) do
          local op, raw, param, id = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
          if op == 'r' then
            if first_time(id) then
              local pending = per_url[param]
              if not pending then
                pending = {}
                per_url[param] = pending
                urls[#urls + 1] = param
              end
              pending[#pending + 1] = raw
            else
              duplicates = duplicates + 1
            end
          elseif op == 's' then
            flush()
            local ok, err = pcall(reply, KEYS[tonumber(param)])
            if ok then summaries = summaries + 1 else dead_letter(message_of(err), raw) end
          else
            redis.call('LPUSH', KEYS[4], param)
            dead = dead + 1
          end
        end
        flush()

        for first = 1, #fresh, 2000 do
          redis.call('HSET', KEYS[5], unpack(fresh, first, math.min(first + 1999, #fresh)))
        end
        for first = 1, #logged, 1000 do
          redis.call('LPUSH', KEYS[3], unpack(logged, first, math.min(first + 999, #logged)))
        end
        if #logged > 0 then redis.call('LTRIM', KEYS[3], 0, capacity - 1) end
        if redis.call('HLEN', KEYS[5]) >= window then
          redis.call('UNLINK', KEYS[6])
          redis.call('RENAME', KEYS[5], KEYS[6])
        end
        return {records, summaries, dead, duplicates}
        """#)
}
