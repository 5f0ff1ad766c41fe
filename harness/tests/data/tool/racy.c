/* racy.c - a counter bumped by two threads without a lock, and two locks
 * taken in opposite orders: a true data race and a lock-order inversion. */
#include <pthread.h>
#include <stdio.h>

static int counter;
static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;

static void *bump(void *arg)
{
    for (int i = 0; i < 1000; i++)
        counter++;
    return arg;
}

static void *ab(void *arg)
{
    pthread_mutex_lock(&a);
    pthread_mutex_lock(&b);
    pthread_mutex_unlock(&b);
    pthread_mutex_unlock(&a);
    return arg;
}

int main(void)
{
    pthread_t t1, t2;

    pthread_create(&t1, NULL, bump, NULL);
    pthread_create(&t2, NULL, bump, NULL);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    pthread_create(&t1, NULL, ab, NULL);
    pthread_join(t1, NULL);
    pthread_mutex_lock(&b);
    pthread_mutex_lock(&a);
    pthread_mutex_unlock(&a);
    pthread_mutex_unlock(&b);
    printf("%d\n", counter);
    return 0;
}
