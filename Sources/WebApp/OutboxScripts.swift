import RedisAdapter

/// The audit outbox's Redis scripts (`AuditOutbox`). Each runs atomically, so a check and the
/// write it guards cannot be split by another webapp's call.
enum OutboxScripts {
    /// Adds a record unless the stream is full; beside it, the page's `traceparent` when there
    /// is one. KEYS: stream. ARGV: capacity, the record, [traceparent]. Returns 1 when added, 0
    /// when full.
    static let add = RedisScript(
        #"""
        if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
        if ARGV[3] then
          redis.call('XADD', KEYS[1], '*', 'record', ARGV[2], 'traceparent', ARGV[3])
        else
          redis.call('XADD', KEYS[1], '*', 'record', ARGV[2])
        end
        return 1
        """#)

    /// Takes up to `count` entries for a consumer: first entries idle longer than `idle` ms (from
    /// the claim cursor on), else new ones. An entry without a record, or with one over `limit`
    /// bytes, is dead-lettered here with its size and a bounded prefix, so the webapp never
    /// loads it; when the dead list cannot take it (its key holds another type), the entry
    /// leaves the stream all the same and is counted as lost, so one bad key cannot wedge
    /// delivery. A stream deleted meanwhile gets its group again.
    /// KEYS: stream, dead list. ARGV: group, consumer, count, idle (ms), cursor, limit, now (ms).
    /// Returns {next cursor, {{id, record[, traceparent]}, …}, stream length, dead-lettered,
    /// dead letters lost}; a traceparent longer than any valid one (55 bytes) is left in Redis.
    static let read = RedisScript(
        #"""
        local group, consumer, count, idle, cursor = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
        local limit, now = tonumber(ARGV[6]), tonumber(ARGV[7])
        if redis.call('EXISTS', KEYS[1]) == 0 then return {'0-0', {}, 0, 0} end
        local ok, claimed = pcall(redis.call, 'XAUTOCLAIM', KEYS[1], group, consumer, idle, cursor, 'COUNT', count)
        if not ok then
          local message = type(claimed) == 'table' and claimed.err or tostring(claimed)
          if not string.find(message, 'NOGROUP', 1, true) then return redis.error_reply(message) end
          redis.call('XGROUP', 'CREATE', KEYS[1], group, '0')
          claimed = redis.call('XAUTOCLAIM', KEYS[1], group, consumer, idle, '0-0', 'COUNT', count)
        end
        local entries = claimed[2]
        if #entries == 0 then
          local fresh = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', count, 'STREAMS', KEYS[1], '>')
          if fresh then entries = fresh[1][2] end
        end
        local taken, dead, lost = {}, 0, 0
        for _, entry in ipairs(entries) do
          local id, fields, record, traceparent = entry[1], entry[2], nil, nil
          if type(fields) == 'table' then
            for i = 1, #fields, 2 do
              if fields[i] == 'record' then record = fields[i + 1] end
              if fields[i] == 'traceparent' and #fields[i + 1] <= 64 then traceparent = fields[i + 1] end
            end
          end
          if record and #record <= limit then
            taken[#taken + 1] = {id, record, traceparent}  -- a nil traceparent ends the table there
          else
            if type(fields) == 'table' then
              local reason = 'entry without a record'
              if record then reason = 'record of ' .. #record .. ' bytes, over the limit of ' .. limit end
              local kept = pcall(redis.call, 'LPUSH', KEYS[2], cjson.encode({
                reason = reason, entry = id, size = record and #record or 0,
                prefix = record and string.sub(record, 1, 256) or '', deadLetteredAt = now}))
              if kept then
                redis.call('LTRIM', KEYS[2], 0, 9999)
                dead = dead + 1
              else
                lost = lost + 1
              end
            end
            redis.call('XACK', KEYS[1], group, id)
            redis.call('XDEL', KEYS[1], id)
          end
        end
        return {claimed[1], taken, redis.call('XLEN', KEYS[1]), dead, lost}
        """#)

    /// Acknowledges and deletes delivered entries; dead ones are also pushed to the dead list
    /// (when it cannot take one, the entry still leaves the stream and is counted as lost).
    /// KEYS: stream, dead list. ARGV: group, n, n delivered ids, then pairs (id, envelope).
    /// Returns how many dead letters were lost.
    static let settle = RedisScript(
        #"""
        local group, n = ARGV[1], tonumber(ARGV[2])
        local ids, lost = {}, 0
        for i = 3, 2 + n do ids[#ids + 1] = ARGV[i] end
        for i = 3 + n, #ARGV, 2 do
          if not pcall(redis.call, 'LPUSH', KEYS[2], ARGV[i + 1]) then lost = lost + 1 end
          ids[#ids + 1] = ARGV[i]
        end
        if #ARGV > 2 + n then pcall(redis.call, 'LTRIM', KEYS[2], 0, 9999) end
        if #ids > 0 then
          redis.call('XACK', KEYS[1], group, unpack(ids))
          redis.call('XDEL', KEYS[1], unpack(ids))
        end
        return lost
        """#)

    /// Creates the stream and its group when missing, and moves the list the previous design
    /// parked records in into the stream. KEYS: stream, legacy list. ARGV: group.
    /// Returns how many records it moved.
    static let prepare = RedisScript(
        #"""
        local ok, err = pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
        if not ok then
          local message = type(err) == 'table' and err.err or tostring(err)
          if not string.find(message, 'BUSYGROUP', 1, true) then return redis.error_reply(message) end
        end
        local moved = 0
        if redis.call('TYPE', KEYS[2])['ok'] == 'list' then
          for _, body in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
            redis.call('XADD', KEYS[1], '*', 'record', body)
            moved = moved + 1
          end
          redis.call('DEL', KEYS[2])
        end
        return moved
        """#)

    /// Removes the group's consumers that hold no entries and were idle longer than ARGV[2] ms.
    /// KEYS: stream. ARGV: group, idle (ms). Returns how many it removed.
    static let forgetIdleConsumers = RedisScript(
        #"""
        local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
        if not ok then return 0 end
        local forgotten = 0
        for _, flat in ipairs(consumers) do
          local info = {}
          for i = 1, #flat, 2 do info[flat[i]] = flat[i + 1] end
          if info['pending'] == 0 and info['idle'] > tonumber(ARGV[2]) then
            redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
            forgotten = forgotten + 1
          end
        end
        return forgotten
        """#)
}
