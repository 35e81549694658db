import RedisAdapter

/// The two Lua scripts of the worker. Each runs atomically in Redis.
enum EventScripts {
    /// Takes the next batch, oldest first: first what the processing list already holds (a
    /// crash, or BLMOVE, left it there), then messages moved one by one from the queue (LMOVE, so
    /// a message is always in exactly one of the two lists) until `ARGV[1]` messages or `ARGV[2]`
    /// bytes have been looked at. Rejected ones count too, so one call's work, the batch and
    /// the worker's memory stay bounded whatever the queue holds.
    ///
    /// Two kinds of message never leave Redis: one over `ARGV[3]` bytes is dead-lettered with
    /// its size and its first `ARGV[4]` bytes (as text, or hex when they are not UTF-8), and
    /// one that is not valid UTF-8 (the apply script finds a message by its exact bytes, which a
    /// Swift string cannot keep) is dead-lettered hex-encoded. A dead letter that cannot be
    /// written (the dead-letter key holds another type, Redis is out of memory) is counted and
    /// the message dropped all the same: no message can hold the queue up.
    ///
    /// KEYS: queue, processing, dead. ARGV: batch size, batch bytes, message limit, prefix bytes,
    /// time (ms). Returns {dead letters written, {the batch}, dead letters lost, the first error}.
    static let takeBatch = RedisScript(
        #"""
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

        local function hex(s)
          return (string.gsub(s, '.', function(ch) return string.format('%02x', string.byte(ch)) end))
        end

        local size, budget, limit, keep, now =
          tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])

        -- The dead letter for a message that cannot be applied; nil for one that can.
        local function rejection(message)
          if #message > limit then
            local letter = {reason = 'larger than ' .. limit .. ' bytes', size = #message, deadLetteredAt = now}
            local prefix = string.sub(message, 1, keep)
            -- A cut inside a UTF-8 sequence loses at most its 3 bytes; other bytes go as hex.
            for cut = #prefix, math.max(#prefix - 3, 0), -1 do
              local text = string.sub(prefix, 1, cut)
              if is_utf8(text) then letter.prefix = text return letter end
            end
            letter.prefixHex = hex(prefix)
            return letter
          end
          if string.find(message, '[\128-\255]') and not is_utf8(message) then
            return {reason = 'not valid UTF-8', messageHex = hex(message), deadLetteredAt = now}
          end
          return nil
        end

        local batch, looked, bytes, dead, lost, failure = {}, 0, 0, 0, 0, ''
        local function dead_letter(letter)
          local ok, err = pcall(redis.call, 'LPUSH', KEYS[3], cjson.encode(letter))
          if ok then dead = dead + 1 return end
          lost = lost + 1
          if failure == '' then failure = type(err) == 'table' and err.err or tostring(err) end
        end

        -- Each message is looked at once; `remove` takes a rejected one out of the processing list.
        local function take(message, remove)
          looked, bytes = looked + 1, bytes + #message
          local letter = rejection(message)
          if not letter then batch[#batch + 1] = message return end
          dead_letter(letter)
          remove(message)
        end

        local waiting = redis.call('LRANGE', KEYS[2], -size, -1)
        for i = #waiting, 1, -1 do
          if bytes >= budget then return {dead, batch, lost, failure} end
          take(waiting[i], function(message) redis.call('LREM', KEYS[2], -1, message) end)
        end
        -- The message just moved is the processing list's head: LTRIM drops it without a copy.
        local function drop_head() redis.call('LTRIM', KEYS[2], 1, -1) end
        while looked < size and bytes < budget do
          local message = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
          if not message then break end
          take(message, drop_head)
        end
        return {dead, batch, lost, failure}
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
    /// Nothing acknowledged is lost: the keys the counting needs are checked first (a wrong type
    /// fails the script before any acknowledgement, and the batch is retried), and what can
    /// still fail after an acknowledgement (a reply key that is not a list, a count that is not
    /// an integer) is caught and dead-lettered with Redis's error. Redis does not roll a script
    /// back, so a script must not fail halfway. A dead letter that cannot be written is counted
    /// and returned with the first error, never retried: no message can hold the queue up.
    ///
    /// A summary whose deadline (ms, Redis's clock) has passed is acknowledged and counted as
    /// expired, not answered: its asker has stopped waiting.
    ///
    /// KEYS: processing, counts, log, dead, seen, previous seen, then one return path per summary.
    /// ARGV: log capacity, summary TTL (s), dedupe window, time (ms), then per message: op
    /// ("r", "s", "d"), the raw message, the url (r), the KEYS index of the return path (s) or
    /// the dead-letter envelope (d), and the record's id or the summary's deadline ("" when none).
    /// Returns {records, summaries, dead letters, duplicates, expired summaries, dead letters
    /// lost, the first error of a lost one}.
    static let applyBatch = RedisScript(
        #"""
        for _, check in ipairs({{1, 'list'}, {2, 'hash'}, {3, 'list'}, {5, 'hash'}, {6, 'hash'}}) do
          local key, want = KEYS[check[1]], check[2]
          local kind = redis.call('TYPE', key)['ok']
          if kind ~= 'none' and kind ~= want then
            return redis.error_reply('key ' .. key .. ' holds a ' .. kind .. ', not a ' .. want)
          end
        end

        local capacity, ttl, window, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
        local records, summaries, dead, duplicates, expired, lost, failure = 0, 0, 0, 0, 0, 0, ''

        local function message_of(err)
          if type(err) == 'table' and err.err then return err.err end
          return tostring(err)
        end

        local function push_dead(letter)
          local ok, err = pcall(redis.call, 'LPUSH', KEYS[4], letter)
          if ok then dead = dead + 1 return end
          lost = lost + 1
          if failure == '' then failure = message_of(err) end
        end

        local function dead_letter(reason, raw)
          push_dead(cjson.encode({reason = reason, message = raw, deadLetteredAt = now}))
        end

        -- Redis's clock, read once and only when a summary has a deadline.
        local redis_now
        local function passed(deadline)
          if deadline == '' then return false end
          if not redis_now then
            local time = redis.call('TIME')
            redis_now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
          end
          return redis_now > tonumber(deadline)
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
          local op, raw, param, last = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]  -- last: id (r), deadline (s)
          if op == 'r' then
            if first_time(last) then
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
          elseif op == 's' and passed(last) then
            expired = expired + 1
          elseif op == 's' then
            flush()
            local ok, err = pcall(reply, KEYS[tonumber(param)])
            if ok then summaries = summaries + 1 else dead_letter(message_of(err), raw) end
          else
            push_dead(param)
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
        return {records, summaries, dead, duplicates, expired, lost, failure}
        """#)
}
